package com.scairelay.eventlog;

import io.vertx.core.json.JsonObject;

/**
 * An event to store. For an inbound event {@code originBridgeId} and {@code externalEventId} are set:
 * the pair is deduplicated, and {@code threadId}/{@code replyToExternalId} are foreign ids that are
 * resolved to our events when the bridge has seen them. For a native event {@code threadId} and
 * {@code replyTo} are already our event ids.
 */
public record EventWrite(
    String roomId,
    Sender sender,
    JsonObject content,
    String threadId,
    String replyTo,
    String replyToExternalId,
    String originBridgeId,
    String externalEventId) {

  public boolean isInbound() {
    return originBridgeId != null;
  }

  String dedupeKey() {
    return originBridgeId + "\u0000" + externalEventId;
  }
}
