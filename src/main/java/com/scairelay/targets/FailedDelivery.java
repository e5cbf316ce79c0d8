package com.scairelay.targets;

import io.vertx.core.json.JsonObject;

/**
 * A delivery given up for good, for its kind to audit: what was sent, how often, the last answer and
 * why it ends; {@code unreachable} when it ends a window of transient failures (an admin alert).
 */
public record FailedDelivery(String targetId, long deliveryId, String eventId, JsonObject payload, int attempts,
                             String lastAnswer, String reason, boolean unreachable) {
}
