package com.scairelay.targets;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** A delivery this node holds the lease of, with what it needs to send it. */
record Claimed(long id, String eventId, int attempts, int rateLimited, Instant firstFailedAt, JsonObject payload) {
}
