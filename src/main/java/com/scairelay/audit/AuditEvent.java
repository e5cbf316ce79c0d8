package com.scairelay.audit;

import com.scairelay.store.Ids;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** One audit record, as stored and as a webhook subscriber will receive it. */
public record AuditEvent(
    String eventId,
    Instant timestamp,
    Category category,
    String action,
    String userId,
    String resourceId,
    JsonObject payload,
    String serviceAccount,
    String ip) {

  public static AuditEvent of(Instant now, Category category, String action, String userId, String resourceId, JsonObject payload) {
    return new AuditEvent(Ids.newId("evt"), now, category, action, userId, resourceId, payload, null, null);
  }

  /** The application acting for the user (the {@code act} claim of an exchanged token), if any. */
  public AuditEvent withServiceAccount(String account) {
    return new AuditEvent(eventId, timestamp, category, action, userId, resourceId, payload, account, ip);
  }

  public AuditEvent withIp(String address) {
    return new AuditEvent(eventId, timestamp, category, action, userId, resourceId, payload, serviceAccount, address);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("event_id", eventId)
        .put("timestamp", timestamp.toString())
        .put("category", category.name())
        .put("action", action)
        .put("user_id", userId)
        .put("resource_id", resourceId)
        .put("payload", payload)
        .put("service_account", serviceAccount);
  }
}
