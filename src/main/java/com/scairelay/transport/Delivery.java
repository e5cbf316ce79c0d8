package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What a connector renders: one delivery's payload (a room event for bridges, an audit event for
 * webhook subscriptions), the target's stored settings and secret, and the time of sending.
 */
public record Delivery(long id, String eventId, JsonObject payload, JsonObject config, String secret, Instant now) {
}
