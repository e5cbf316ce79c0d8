package com.scairelay.eventlog;

import com.scairelay.store.Fqids;
import io.vertx.core.json.JsonObject;

/**
 * An event to store. For an inbound event {@code originBridgeId} and {@code externalEventId} are set:
 * the pair is deduplicated, and {@code threadId}/{@code replyToExternalId} are foreign ids that are
 * resolved to our events when the bridge has seen them; {@code externalMessageId} is the platform's
 * id of the message, stored with the event so later threads, replies and edits can name it. For a
 * native event {@code threadId} and {@code replyTo} are already our event ids.
 */
public record EventWrite(
    String roomId,
    Sender sender,
    JsonObject content,
    String threadId,
    String replyTo,
    String replyToExternalId,
    String originBridgeId,
    String externalEventId,
    String externalMessageId) {

  /** An event whose foreign event id is also its message id (or a native event, with neither). */
  public EventWrite(String roomId, Sender sender, JsonObject content, String threadId, String replyTo, String replyToExternalId,
                    String originBridgeId, String externalEventId) {
    this(roomId, sender, content, threadId, replyTo, replyToExternalId, originBridgeId, externalEventId, externalEventId);
  }

  /** This write with its sender's fully qualified id (see {@link Sender#named}). */
  EventWrite named(Fqids fqids) {
    return new EventWrite(roomId, sender.named(fqids), content, threadId, replyTo, replyToExternalId, originBridgeId, externalEventId,
        externalMessageId);
  }

  public boolean isInbound() {
    return originBridgeId != null;
  }

  String dedupeKey() {
    return originBridgeId + "\u0000" + externalEventId;
  }

  /** How later messages of the bridge refer to this one. */
  String referenceKey() {
    return originBridgeId + "\u0000" + externalMessageId;
  }
}
