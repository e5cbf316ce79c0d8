package com.scairelay.webhooks;

import com.scairelay.store.RotatingSecret;
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
    RotatingSecret<String> secrets,
    boolean paused,
    int queueLimit,
    Instant createdAt,
    Instant updatedAt) {

  /** The secret that signs deliveries now. */
  public String secret() {
    return secrets.current();
  }

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
    return secrets.describeInto(json);
  }
}
