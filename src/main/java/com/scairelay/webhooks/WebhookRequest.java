package com.scairelay.webhooks;

import com.scairelay.audit.Category;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.transport.OutboundGuard;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The fields of a create or PATCH body, validated; every error names the field. A field absent from
 * a PATCH body is null here and left as it is.
 */
record WebhookRequest(String name, String url, List<String> categories, JsonObject filters, JsonObject headers,
                      String secret, Integer queueLimit) {

  static final int DEFAULT_QUEUE_LIMIT = 1000;
  private static final Set<String> FILTERS = Set.of("resource_ids", "user_ids", "ips");
  /**
   * Headers of the node's connection to the subscriber (hop-by-hop, framing, the host it dialled) and
   * the request's own {@code Expect}; {@code Proxy-*} too, by prefix.
   */
  private static final Set<String> CONNECTION = Set.of("connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
      "host", "content-length", "expect");
  /** Headers the node sets itself; {@code X-ScaiDrive-*} too, by prefix. {@code Content-Type} may be given (a media type). */
  private static final Set<String> NODE_SET = Set.of("user-agent");

  static WebhookRequest parse(JsonObject body, boolean create, OutboundGuard guard) {
    String name = create ? JsonBody.requiredString(body, "name", 200) : JsonBody.optionalString(body, "name", 200);
    String url = create ? JsonBody.requiredString(body, "url", 2048) : JsonBody.optionalString(body, "url", 2048);
    if (url != null) {
      checkUrl(url, guard);
    }
    List<String> categories = body.containsKey("events") || create ? categories(body.getValue("events")) : null;
    JsonObject filters = body.containsKey("filters") ? filters(body.getValue("filters")) : create ? new JsonObject() : null;
    JsonObject headers = body.containsKey("headers") ? headers(body.getValue("headers")) : create ? new JsonObject() : null;
    String secret = create ? JsonBody.optionalString(body, "secret", 256) : null;
    if (!create && body.containsKey("secret")) {
      throw ProblemException.badRequest("field 'secret' cannot be changed with PATCH; use POST …/rotate-secret");
    }
    if (secret != null && secret.length() < 16) {
      throw ProblemException.badRequest("field 'secret' must be at least 16 characters long");
    }
    Integer queueLimit = body.containsKey("queue_limit") || create
        ? JsonBody.optionalInt(body, "queue_limit", DEFAULT_QUEUE_LIMIT, 1, 1_000_000) : null;
    return new WebhookRequest(name, url, categories, filters, headers, secret, queueLimit);
  }

  private static void checkUrl(String url, OutboundGuard guard) {
    guard.refuseConfigured(url).ifPresent(reason -> {
      throw ProblemException.badRequest("field 'url' is refused: " + reason);
    });
  }

  private static List<String> categories(Object value) {
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw ProblemException.badRequest("field 'events' must be a non-empty array of categories: " + Arrays.toString(Category.values()));
    }
    List<String> categories = new ArrayList<>();
    for (Object item : array) {
      String name = item instanceof String s ? s.toUpperCase(Locale.ROOT) : null;
      if (name == null || Arrays.stream(Category.values()).noneMatch(c -> c.name().equals(name))) {
        throw ProblemException.badRequest("field 'events' has '" + item + "', which is not one of " + Arrays.toString(Category.values()));
      }
      if (!categories.contains(name)) {
        categories.add(name);
      }
    }
    return categories;
  }

  private static JsonObject filters(Object value) {
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject filters)) {
      throw ProblemException.badRequest("field 'filters' must be an object with resource_ids, user_ids and/or ips");
    }
    for (String key : filters.fieldNames()) {
      if (!FILTERS.contains(key)) {
        throw ProblemException.badRequest("field 'filters." + key + "' is not a filter; use resource_ids, user_ids or ips");
      }
      Object list = filters.getValue(key);
      if (!(list instanceof JsonArray array) || array.isEmpty() || array.stream().anyMatch(v -> !(v instanceof String))) {
        throw ProblemException.badRequest("field 'filters." + key + "' must be a non-empty array of strings");
      }
    }
    return filters.copy();
  }

  private static JsonObject headers(Object value) {
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject headers)) {
      throw ProblemException.badRequest("field 'headers' must be an object of header names to string values");
    }
    Set<String> seen = new HashSet<>();
    for (String name : headers.fieldNames()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
        throw ProblemException.badRequest("field 'headers' has an invalid header name '" + name + "'");
      }
      if (CONNECTION.contains(lower) || lower.startsWith("proxy-")) {
        throw ProblemException.badRequest("field 'headers' may not set '" + name + "': it belongs to the node's connection to the subscriber");
      }
      if (NODE_SET.contains(lower) || lower.startsWith("x-scaidrive-")) {
        throw ProblemException.badRequest("field 'headers' may not set '" + name + "': the node sets it on every delivery");
      }
      if (!seen.add(lower)) {
        throw ProblemException.badRequest("field 'headers' names '" + name + "' twice (header names ignore case)");
      }
      Object v = headers.getValue(name);
      if (!(v instanceof String s) || s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0 || s.length() > 4096) {
        throw ProblemException.badRequest("field 'headers." + name + "' must be a single-line string of at most 4096 characters");
      }
      if (lower.equals("content-type")) {
        MediaType.problem(s).ifPresent(problem -> {
          throw ProblemException.badRequest("field 'headers." + name + "' " + problem);
        });
      }
    }
    return headers.copy();
  }
}
