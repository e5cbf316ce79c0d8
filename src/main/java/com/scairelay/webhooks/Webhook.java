package com.scairelay.webhooks;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/** A webhook subscription as the node uses it, its secret decrypted; {@link #toJson()} never shows a secret. */
public record Webhook(
    String id,
    String name,
    String url,
    List<String> categories,
    JsonObject filters,
    JsonObject headers,
    String secret,
    String previousSecret,
    Instant previousSecretExpiresAt,
    boolean paused,
    int queueLimit,
    Instant createdAt,
    Instant updatedAt) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("webhook_id", id)
        .put("name", name)
        .put("url", url)
        .put("events", new JsonArray(categories))
        .put("filters", filters)
        .put("headers", headers)
        .put("paused", paused)
        .put("queue_limit", queueLimit)
        .put("created_at", createdAt.toString())
        .put("updated_at", updatedAt.toString());
    if (previousSecretExpiresAt != null) {
      json.put("previous_secret_expires_at", previousSecretExpiresAt.toString());
    }
    return json;
  }
}
