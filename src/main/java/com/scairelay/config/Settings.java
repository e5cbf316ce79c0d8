package com.scairelay.config;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Typed reads of the merged configuration. Every key is a dotted path into {@code conf/relay.json}
 * ("http.port"); the environment variable {@code RELAY_HTTP_PORT} overrides it. Errors name both.
 */
final class Settings {
  private final JsonObject defaults;
  private final JsonObject file;
  private final Map<String, String> env;

  Settings(JsonObject defaults, JsonObject file, Map<String, String> env) {
    this.defaults = defaults;
    this.file = file;
    this.env = env;
  }

  static String envName(String key) {
    return "RELAY_" + key.toUpperCase().replace('.', '_');
  }

  String string(String key) {
    String fromEnv = env.get(envName(key));
    if (fromEnv != null) {
      return fromEnv;
    }
    Object value = lookup(file, key);
    if (value == null) {
      value = lookup(defaults, key);
    }
    if (value == null) {
      throw new ConfigException("configuration key " + describe(key) + " is missing from conf/relay.json");
    }
    return String.valueOf(value);
  }

  int integer(String key, int min, int max) {
    String raw = string(key).trim();
    try {
      long value = Long.parseLong(raw);
      if (value < min || value > max) {
        throw invalid(key, raw, "an integer from " + min + " to " + max);
      }
      return (int) value;
    } catch (NumberFormatException e) {
      throw invalid(key, raw, "an integer from " + min + " to " + max);
    }
  }

  boolean bool(String key) {
    String raw = string(key).trim().toLowerCase();
    return switch (raw) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw invalid(key, raw, "true or false");
    };
  }

  /** One of {@code allowed}, whatever the case it was written in; answered as spelled in {@code allowed}. */
  String oneOf(String key, String... allowed) {
    String raw = string(key).trim();
    for (String value : allowed) {
      if (value.equalsIgnoreCase(raw)) {
        return value;
      }
    }
    throw invalid(key, raw, "one of " + String.join(", ", allowed));
  }

  ConfigException invalid(String key, String raw, String expected) {
    return new ConfigException("invalid configuration: " + describe(key) + " must be " + expected + ", got '" + raw + "'");
  }

  static String describe(String key) {
    return key + " (env " + envName(key) + ")";
  }

  private static Object lookup(JsonObject root, String key) {
    Object node = root;
    for (String part : key.split("\\.")) {
      if (!(node instanceof JsonObject object)) {
        return null;
      }
      node = object.getValue(part);
    }
    return node;
  }
}
