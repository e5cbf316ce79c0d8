package com.scairelay.bridges;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A bridge as the node uses it, with its shared secret decrypted. {@link #toJson()} never shows a
 * secret; {@code config} holds the transport's outbound settings ({@code outbound_webhook} for custom).
 */
public record Bridge(
    String id,
    String roomId,
    String transport,
    Direction direction,
    String name,
    JsonObject config,
    String secret,
    String previousSecret,
    Instant previousSecretExpiresAt,
    boolean paused,
    int maxInFlight,
    Instant createdAt,
    Instant updatedAt) {

  /** The secrets a signature may be made with at {@code now}: the current one, then the previous during its grace. */
  public List<String> verifyingSecrets(Instant now) {
    List<String> secrets = new ArrayList<>(2);
    secrets.add(secret);
    if (previousSecret != null && previousSecretExpiresAt != null && now.isBefore(previousSecretExpiresAt)) {
      secrets.add(previousSecret);
    }
    return secrets;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("bridge_id", id)
        .put("transport", transport)
        .put("direction", direction.wireName())
        .put("room_id", roomId)
        .put("name", name)
        .put("paused", paused)
        .put("max_in_flight", maxInFlight)
        .put("created_at", createdAt.toString())
        .put("updated_at", updatedAt.toString());
    config.forEach(entry -> json.put(entry.getKey(), entry.getValue()));
    if (previousSecretExpiresAt != null) {
      json.put("previous_secret_expires_at", previousSecretExpiresAt.toString());
    }
    return json;
  }
}
