package com.scairelay.ingress;

import com.scairelay.bridges.Bridge;
import com.scairelay.eventlog.EventWrite;
import com.scairelay.eventlog.Sender;
import io.vertx.core.json.JsonObject;

import static com.scairelay.ingress.JsonBody.optionalString;
import static com.scairelay.ingress.JsonBody.requiredObject;
import static com.scairelay.ingress.JsonBody.requiredString;

/** A foreign system's inbound webhook body, validated; every error names the field. */
record InboundMessage(String eventId, JsonObject sender, String externalId, String displayName, String avatarUrl,
                      JsonObject content, String threadId, String replyToExternalId) {

  static final int MAX_ID = 255;

  static InboundMessage parse(JsonObject body) {
    String eventId = requiredString(body, "event_id", MAX_ID);
    JsonObject sender = requiredObject(body, "sender");
    String externalId = requiredString(sender, "sender.external_id", MAX_ID);
    String displayName = optionalString(sender, "sender.display_name", MAX_ID);
    String avatarUrl = optionalString(sender, "sender.avatar_url", 2048);
    JsonObject content = requiredObject(body, "content");
    requiredString(content, "content.msgtype", 64);
    String threadId = optionalString(body, "thread_id", MAX_ID);
    String replyTo = optionalString(body, "reply_to_external_id", MAX_ID);
    return new InboundMessage(eventId, sender, externalId, displayName, avatarUrl, content, threadId, replyTo);
  }

  /** The event to store: sent by the bridge's shadow of the sender, the original sender kept in the content. */
  EventWrite toWrite(Bridge bridge) {
    JsonObject stored = content.copy().put("_imported_sender", sender.copy());
    return new EventWrite(bridge.roomId(), Sender.shadow(bridge.id(), externalId, displayName, avatarUrl), stored,
        threadId, null, replyToExternalId, bridge.id(), eventId);
  }
}
