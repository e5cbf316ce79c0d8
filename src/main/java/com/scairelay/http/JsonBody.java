package com.scairelay.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

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
    Object value;
    try {
      value = body.toJsonValue();
    } catch (DecodeException e) {
      throw ProblemException.badRequest("the request body is not valid JSON: " + e.getMessage());
    }
    if (!(value instanceof JsonObject object)) {
      throw ProblemException.badRequest("the request body must be a JSON object");
    }
    return object;
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
