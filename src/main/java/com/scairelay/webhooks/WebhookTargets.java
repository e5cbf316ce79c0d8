package com.scairelay.webhooks;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.targets.FailedDelivery;
import com.scairelay.targets.Outbox;
import com.scairelay.targets.Policy;
import com.scairelay.targets.Target;
import com.scairelay.targets.TargetKind;
import com.scairelay.transport.Connectors;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Webhook subscriptions as a target kind: the audit event as stored is the payload, the
 * {@code webhook} connector signs and sends it, one at a time, on the fixed schedule; a delivery given
 * up is recorded as the SECURITY event {@code webhook.delivery_dropped}.
 */
public final class WebhookTargets {
  public static final String KIND = "webhook";
  /** The targets of this kind, as an SQL subquery: what audit events are delivered to. */
  public static final String TARGET_IDS = "SELECT id FROM webhooks";
  static final String DROPPED = "webhook.delivery_dropped";

  private static final Logger log = LoggerFactory.getLogger(WebhookTargets.class);
  private static final String CLAIM_JOIN = """
      FROM claimable c, audit_events a
      WHERE d.id = c.id AND a.event_id = d.event_id
      RETURNING d.id, d.event_id, d.attempts, d.rate_limited, d.first_failed_at,
                a.timestamp, a.category, a.action, a.user_id, a.resource_id, a.payload""";
  private static final String HELD = "EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.target_id AND (w.paused OR w.deleted_at IS NOT NULL))";
  /** A paused subscription takes deliveries up to its queue limit, as {@link WebhookFanOut} does; a running one, any number. */
  private static final String QUEUE_ROOM = """
      SELECT CASE WHEN w.paused THEN greatest(w.queue_limit - %s, 0) END FROM webhooks w WHERE w.id = $1"""
      .formatted(WebhookFanOut.pending("w.id"));

  private WebhookTargets() {
  }

  public static TargetKind kind(WebhookStore store, AuditLog audit) {
    return new TargetKind(KIND,
        id -> store.find(id).map(found -> found.map(WebhookTargets::target)),
        CLAIM_JOIN, WebhookTargets::auditEvent, HELD, Policy.webhookSchedule(),
        (tx, failed) -> auditDrop(audit, tx, failed)).withQueueRoom(QUEUE_ROOM)
        .withPayloadKept("EXISTS (SELECT 1 FROM audit_events a WHERE a.event_id = d.event_id)");
  }

  private static Target target(Webhook webhook) {
    return new Target(webhook.id(), !webhook.paused(), 1, Connectors.WEBHOOK,
        new JsonObject().put("url", webhook.url()).put("headers", webhook.headers()), webhook.secret());
  }

  /** The audit event as stored, the body of a webhook delivery. */
  private static JsonObject auditEvent(Row row) {
    return new JsonObject()
        .put("event_id", row.getString("event_id"))
        .put("timestamp", row.getOffsetDateTime("timestamp").toInstant().toString())
        .put("category", row.getString("category"))
        .put("action", row.getString("action"))
        .put("user_id", row.getString("user_id"))
        .put("resource_id", row.getString("resource_id"))
        .put("payload", row.getValue("payload"));
  }

  /**
   * The drop of a delivery that itself carried a {@code webhook.delivery_dropped} is only logged, so a
   * subscription that fails its own SECURITY events cannot feed an endless chain of them.
   */
  private static Future<Void> auditDrop(AuditLog audit, Outbox.Tx tx, FailedDelivery failed) {
    if (DROPPED.equals(failed.payload().getString("action"))) {
      log.warn("webhook {} dropped delivery {} of a {} event; not recorded again, so no chain can form",
          failed.targetId(), failed.deliveryId(), DROPPED);
      return Future.succeededFuture();
    }
    JsonObject payload = new JsonObject()
        .put("webhook_id", failed.targetId())
        .put("event_id", failed.eventId())
        .put("delivery_id", "dlv_" + failed.deliveryId())
        .put("attempts", failed.attempts())
        .put("last_answer", failed.lastAnswer());
    return audit.record(tx, audit.event(Category.SECURITY, DROPPED, null, failed.targetId(), payload));
  }
}
