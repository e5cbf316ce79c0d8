package com.scairelay.bridges;

import com.scairelay.store.RotatingSecret;
import com.scairelay.transport.InboundBridge;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/**
 * A bridge as the node uses it, with its shared secret decrypted. {@link #toJson()} never shows a
 * secret; {@code config} holds the transport's settings ({@code outbound_webhook} for custom), and
 * {@code credentials} its platform secrets (bot tokens, signing secrets), decrypted, never shown.
 */
public record Bridge(
    String id,
    String roomId,
    String transport,
    Direction direction,
    String name,
    JsonObject config,
    RotatingSecret<String> secrets,
    JsonObject credentials,
    boolean paused,
    int maxInFlight,
    Instant createdAt,
    Instant updatedAt) {

  /** The shared secret that signs now. */
  public String secret() {
    return secrets.current();
  }

  /** The secrets a signature may be made with at {@code now}: the current one, then the previous during its grace. */
  public List<String> verifyingSecrets(Instant now) {
    return secrets.valid(now);
  }

  /** The bridge as its connector sees it on the inbound side. */
  public InboundBridge inbound(Instant now) {
    return new InboundBridge(id, roomId, config, credentials, verifyingSecrets(now));
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
    return secrets.describeInto(json);
  }
}
