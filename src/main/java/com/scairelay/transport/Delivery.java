package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What a connector renders: one delivery's payload (a room event for bridges, an audit event for
 * webhook subscriptions), the target's stored settings, its shared secret and its platform credentials
 * (bot tokens; empty for none), and the time of sending.
 */
public record Delivery(long id, String eventId, JsonObject payload, JsonObject config, String secret, JsonObject credentials,
                       Instant now) {

  public Delivery(long id, String eventId, JsonObject payload, JsonObject config, String secret, Instant now) {
    this(id, eventId, payload, config, secret, new JsonObject(), now);
  }

  /** The fqid of the event's sender (coalescing joins consecutive messages of one sender). */
  public String senderFqid() {
    JsonObject sender = payload.getJsonObject("sender");
    return sender == null ? null : sender.getString("fqid");
  }
}
