package com.scairelay.bridges;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.config.RelayConfig;
import com.scairelay.targets.FailedDelivery;
import com.scairelay.targets.Outbox;
import com.scairelay.targets.Policy;
import com.scairelay.targets.Target;
import com.scairelay.targets.TargetKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * The outbound side of bridges as a target kind: room events as the payload, the bridge's transport
 * as the connector, backoff as the policy, {@code bridge.delivery_failed} (and the SECURITY alert
 * {@code bridge.unreachable}) when a delivery is given up.
 */
public final class BridgeTargets {
  public static final String KIND = "bridge";

  /**
   * With each room event, what its thread root, reply target and edited or deleted event are called on
   * this bridge's platform, when the bridge has seen them (a platform threads by its own ids).
   */
  private static final String CLAIM_JOIN = """
      FROM claimable c, events e, participants p
      WHERE d.id = c.id AND e.id = d.event_id AND p.id = e.sender_id
      RETURNING d.id, d.event_id, d.attempts, d.rate_limited, d.first_failed_at,
                e.content, e.thread_id, e.reply_to, e.created_at, p.fqid, p.display_name, p.avatar_url,
                CASE WHEN e.thread_id IS NOT NULL THEN %1$s END AS thread_foreign_id,
                CASE WHEN e.reply_to IS NOT NULL THEN %2$s END AS reply_foreign_id,
                CASE WHEN e.content ? 'target_event_id' THEN %3$s END AS target_foreign_id"""
      .formatted(foreignIdOf("e.thread_id"), foreignIdOf("e.reply_to"), foreignIdOf("e.content->>'target_event_id'"));
  /** What the outbox meters count a bridge's deliveries under. */
  private static final String TRANSPORT = "(SELECT b.transport FROM bridges b WHERE b.id = d.target_id)";
  private static final String HELD = "EXISTS (SELECT 1 FROM bridges b WHERE b.id = d.target_id AND (b.paused OR b.deleted_at IS NOT NULL))";

  private BridgeTargets() {
  }

  /** The platform's id on bridge {@code d.target_id} of our event {@code eventId}: one we posted there, or one it sent us. */
  private static String foreignIdOf(String eventId) {
    return ("coalesce((SELECT m.foreign_id FROM bridge_messages m WHERE m.bridge_id = d.target_id AND m.event_id = %1$s LIMIT 1),"
        + " (SELECT o.external_id FROM events o WHERE o.id = %1$s AND o.origin_bridge_id = d.target_id))").formatted(eventId);
  }

  public static TargetKind kind(BridgeRegistry registry, AuditLog audit, RelayConfig.Delivery settings) {
    return new TargetKind(KIND,
        id -> registry.find(id).map(found -> found.map(BridgeTargets::target)),
        CLAIM_JOIN, BridgeTargets::roomEvent, HELD, Policy.backoff(settings),
        (tx, failed) -> auditFailure(audit, tx, failed),
        (tx, created) -> BridgeMessages.record(tx, created.stream()
            .map(c -> new BridgeMessages.Created(c.targetId(), c.foreignId(), c.eventId(), c.at())).toList()),
        TRANSPORT)
        .withPayloadKept("EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)");
  }

  private static Target target(Bridge bridge) {
    return new Target(bridge.id(), !bridge.paused() && bridge.direction().sendsOutbound(), bridge.maxInFlight(),
        bridge.transport(), bridge.config(), bridge.secret(), bridge.credentials());
  }

  /**
   * The room event every connector renders from; {@code foreign} holds the platform ids of the events
   * it threads under, replies to, or edits or deletes ({@code thread_id}, {@code reply_to},
   * {@code target_event_id}), for those the bridge has seen.
   */
  private static JsonObject roomEvent(Row row) {
    JsonObject foreign = new JsonObject();
    putIfPresent(foreign, "thread_id", row.getString("thread_foreign_id"));
    putIfPresent(foreign, "reply_to", row.getString("reply_foreign_id"));
    putIfPresent(foreign, "target_event_id", row.getString("target_foreign_id"));
    return new JsonObject()
        .put("event_id", row.getString("event_id"))
        .put("sender", new JsonObject().put("fqid", row.getString("fqid")).put("display_name", row.getString("display_name"))
            .put("avatar_url", row.getString("avatar_url")))
        .put("foreign", foreign)
        .put("content", row.getValue("content"))
        .put("thread_id", row.getString("thread_id"))
        .put("reply_to", row.getString("reply_to"))
        .put("ts", row.getOffsetDateTime("created_at").toInstant().toString());
  }

  private static void putIfPresent(JsonObject json, String key, String value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  private static Future<Void> auditFailure(AuditLog audit, Outbox.Tx tx, FailedDelivery failed) {
    JsonObject payload = new JsonObject()
        .put("bridge_id", failed.targetId())
        .put("event_id", failed.eventId())
        .put("delivery_id", failed.deliveryId())
        .put("attempts", failed.attempts())
        .put("last_answer", failed.lastAnswer())
        .put("reason", failed.reason());
    Future<Void> recorded = audit.record(tx, audit.event(Category.ADMIN, "bridge.delivery_failed", null, failed.targetId(), payload));
    if (!failed.unreachable()) {
      return recorded;
    }
    return recorded.compose(v -> audit.record(tx, audit.event(Category.SECURITY, "bridge.unreachable", null, failed.targetId(), payload.copy())));
  }
}
