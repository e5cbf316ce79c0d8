package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

import static com.scairelay.http.JsonBody.optionalString;
import static com.scairelay.http.JsonBody.requiredObject;
import static com.scairelay.http.JsonBody.requiredString;

/**
 * A message a foreign system posted into a bridge, as a connector read it: its foreign event id
 * (deduplicated), the foreign sender (a shadow participant of the bridge), the content, foreign thread
 * and reply ids that the event log resolves to our events when the bridge has seen them, and the
 * platform's id of the message itself ({@code messageId}, which later threads, replies and edits name;
 * the event id when the platform has one id for both).
 */
public record InboundEvent(String eventId, JsonObject sender, String externalId, String displayName, String avatarUrl,
                           JsonObject content, String threadId, String replyToExternalId, String messageId) {

  public InboundEvent(String eventId, JsonObject sender, String externalId, String displayName, String avatarUrl,
                      JsonObject content, String threadId, String replyToExternalId) {
    this(eventId, sender, externalId, displayName, avatarUrl, content, threadId, replyToExternalId, eventId);
  }

  /** The sender object stored as {@code content._imported_sender}: the platform's id, name and avatar. */
  public static JsonObject sender(String externalId, String displayName, String avatarUrl) {
    return new JsonObject().put("external_id", externalId).put("display_name", displayName).put("avatar_url", avatarUrl);
  }

  static final int MAX_ID = 255;

  /** The body of DESIGN.md §3 ({@code custom} transport), validated; every error names the field. */
  public static InboundEvent parse(JsonObject body) {
    String eventId = requiredString(body, "event_id", MAX_ID);
    JsonObject sender = requiredObject(body, "sender");
    String externalId = requiredString(sender, "sender.external_id", MAX_ID);
    String displayName = optionalString(sender, "sender.display_name", MAX_ID);
    String avatarUrl = optionalString(sender, "sender.avatar_url", 2048);
    JsonObject content = requiredObject(body, "content");
    requiredString(content, "content.msgtype", 64);
    String threadId = optionalString(body, "thread_id", MAX_ID);
    String replyTo = optionalString(body, "reply_to_external_id", MAX_ID);
    return new InboundEvent(eventId, sender, externalId, displayName, avatarUrl, content, threadId, replyTo);
  }
}
