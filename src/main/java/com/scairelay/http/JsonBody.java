package com.scairelay.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayDeque;
import java.util.Map;

/** Reads request bodies and fields, answering 400 with the field's name when one is wrong. */
public final class JsonBody {
  private JsonBody() {
  }

  public static JsonObject of(RoutingContext ctx) {
    return parse(ctx.body().buffer());
  }

  public static JsonObject parse(Buffer body) {
    if (body == null || body.length() == 0) {
      throw ProblemException.badRequest("the request body is empty; a JSON object is required");
    }
    requireUtf8(body);
    Object value;
    try {
      value = body.toJsonValue();
    } catch (DecodeException e) {
      throw ProblemException.badRequest("the request body is not valid JSON" + where(e.getMessage()));
    }
    if (!(value instanceof JsonObject object)) {
      throw ProblemException.badRequest("the request body must be a JSON object");
    }
    requireStorable(object);
    return object;
  }

  /**
   * A body that is not strictly UTF-8 (an overlong form, a byte that starts nothing, a truncated
   * sequence) could come back other than it was signed; JSON must be UTF-8 (RFC 8259).
   */
  private static void requireUtf8(Buffer body) {
    try {
      java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(body.getBytes()));
    } catch (java.nio.charset.CharacterCodingException e) {
      throw ProblemException.badRequest("the request body is not valid UTF-8");
    }
  }

  /** Where the parser stopped, without its internals: " (line 1, column 13)" or nothing. */
  private static String where(String parserMessage) {
    java.util.regex.Matcher at = POSITION.matcher(parserMessage == null ? "" : parserMessage);
    return at.find() ? " (line " + at.group(1) + ", column " + at.group(2) + ")" : "";
  }

  private static final java.util.regex.Pattern POSITION = java.util.regex.Pattern.compile("line: (\\d+), column: (\\d+)");

  /** Deepest nesting of objects and arrays a body may have. */
  public static final int MAX_DEPTH = 64;
  /** Most elements one array may have. */
  public static final int MAX_ARRAY = 10_000;
  /** Longest string (in UTF-16 units) one value or key may be. */
  public static final int MAX_STRING = 65_536;

  /**
   * Refuses what PostgreSQL cannot keep exactly as sent, anywhere in the document: a NUL character
   * ({@code \u0000}), half of a surrogate pair (neither is valid text there), or a number too large for
   * a double (it would come back as a string); and what no message needs: nesting deeper than
   * {@link #MAX_DEPTH}, an array of more than {@link #MAX_ARRAY} elements or a string longer than {@link #MAX_STRING}. One such field answers
   * 400 for its own request only.
   */
  public static void requireStorable(JsonObject document) {
    ArrayDeque<Object> todo = new ArrayDeque<>();
    ArrayDeque<Integer> depths = new ArrayDeque<>();
    todo.push(document);
    depths.push(1);
    while (!todo.isEmpty()) {
      Object value = todo.pop();
      int depth = depths.pop();
      if ((value instanceof JsonObject || value instanceof JsonArray) && depth > MAX_DEPTH) {
        throw ProblemException.badRequest("the request body is nested deeper than " + MAX_DEPTH + " levels");
      }
      if (value instanceof JsonObject object) {
        for (Map.Entry<String, Object> entry : object) {
          checkText(entry.getKey());
          if (entry.getValue() != null) {
            todo.push(entry.getValue());
            depths.push(depth + 1);
          }
        }
      } else if (value instanceof JsonArray array) {
        if (array.size() > MAX_ARRAY) {
          throw ProblemException.badRequest("the request body has an array of more than " + MAX_ARRAY + " elements");
        }
        array.forEach(item -> {
          if (item != null) {
            todo.push(item);
            depths.push(depth + 1);
          }
        });
      } else if (value instanceof String text) {
        checkText(text);
      } else if (value instanceof Double number && !Double.isFinite(number)) {
        throw ProblemException.badRequest("the request body has a number too large to store exactly");
      }
    }
  }

  private static void checkText(String text) {
    if (text.length() > MAX_STRING) {
      throw ProblemException.badRequest("the request body has a string longer than " + MAX_STRING + " characters");
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == 0) {
        throw ProblemException.badRequest("the request body has a NUL character (\\u0000), which cannot be stored");
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          throw ProblemException.badRequest("the request body has half of a UTF-16 surrogate pair, which is not text and cannot be stored");
        }
      }
    }
  }

  public static String requiredString(JsonObject json, String field, int maxLength) {
    String value = optionalString(json, field, maxLength);
    if (value == null || value.isBlank()) {
      throw ProblemException.badRequest("field '" + field + "' is required and must be a non-empty string");
    }
    return value;
  }

  public static String optionalString(JsonObject json, String field, int maxLength) {
    Object value = json.getValue(lastPart(field));
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw ProblemException.badRequest("field '" + field + "' must be a string");
    }
    if (s.length() > maxLength) {
      throw ProblemException.badRequest("field '" + field + "' is longer than " + maxLength + " characters");
    }
    return s;
  }

  public static JsonObject requiredObject(JsonObject json, String field) {
    Object value = json.getValue(lastPart(field));
    if (!(value instanceof JsonObject object)) {
      throw ProblemException.badRequest("field '" + field + "' is required and must be a JSON object");
    }
    return object;
  }

  public static <E extends Enum<E>> E requiredEnum(JsonObject json, String field, Class<E> type) {
    String value = requiredString(json, field, 64);
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(value)) {
        return constant;
      }
    }
    throw ProblemException.badRequest("field '" + field + "' must be one of " + names(type) + ", got '" + value + "'");
  }

  public static int optionalInt(JsonObject json, String field, int defaultValue, int min, int max) {
    Object value = json.getValue(field);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Integer i && i >= min && i <= max) {
      return i;
    }
    throw ProblemException.badRequest("field '" + field + "' must be an integer from " + min + " to " + max);
  }

  public static int optionalInt(RoutingContext ctx, String param, int defaultValue, int min, int max) {
    String raw = ctx.request().getParam(param);
    if (raw == null || raw.isEmpty()) {
      return defaultValue;
    }
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ProblemException.badRequest("query parameter '" + param + "' must be an integer from " + min + " to " + max);
  }

  private static <E extends Enum<E>> String names(Class<E> type) {
    JsonArray names = new JsonArray();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase());
    }
    return names.encode();
  }

  private static String lastPart(String field) {
    int dot = field.lastIndexOf('.');
    return dot < 0 ? field : field.substring(dot + 1);
  }
}
