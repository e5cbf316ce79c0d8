package com.scairelay.eventlog;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** A room event as stored, and as API readers and WebSocket clients see it. */
public record StoredEvent(
    String id,
    String roomId,
    String senderId,
    String senderFqid,
    String senderDisplayName,
    JsonObject content,
    String threadId,
    String replyTo,
    String originBridgeId,
    Instant createdAt) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("event_id", id)
        .put("room_id", roomId)
        .put("sender", new JsonObject().put("id", senderId).put("fqid", senderFqid).put("display_name", senderDisplayName))
        .put("content", content)
        .put("thread_id", threadId)
        .put("reply_to", replyTo)
        .put("origin_bridge_id", originBridgeId)
        .put("ts", createdAt.toString());
  }
}
