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

  private static final String CLAIM_JOIN = """
      FROM claimable c, events e, participants p
      WHERE d.id = c.id AND e.id = d.event_id AND p.id = e.sender_id
      RETURNING d.id, d.event_id, d.attempts, d.rate_limited, d.first_failed_at,
                e.content, e.thread_id, e.reply_to, e.created_at, p.fqid, p.display_name""";
  private static final String HELD = "EXISTS (SELECT 1 FROM bridges b WHERE b.id = d.target_id AND (b.paused OR b.deleted_at IS NOT NULL))";

  private BridgeTargets() {
  }

  public static TargetKind kind(BridgeRegistry registry, AuditLog audit, RelayConfig.Delivery settings) {
    return new TargetKind(KIND,
        id -> registry.find(id).map(found -> found.map(BridgeTargets::target)),
        CLAIM_JOIN, BridgeTargets::roomEvent, HELD, Policy.backoff(settings),
        (tx, failed) -> auditFailure(audit, tx, failed));
  }

  private static Target target(Bridge bridge) {
    return new Target(bridge.id(), !bridge.paused() && bridge.direction().sendsOutbound(), bridge.maxInFlight(),
        bridge.transport(), bridge.config(), bridge.secret());
  }

  /** The room event every connector renders from. */
  private static JsonObject roomEvent(Row row) {
    return new JsonObject()
        .put("event_id", row.getString("event_id"))
        .put("sender", new JsonObject().put("fqid", row.getString("fqid")).put("display_name", row.getString("display_name")))
        .put("content", row.getValue("content"))
        .put("thread_id", row.getString("thread_id"))
        .put("reply_to", row.getString("reply_to"))
        .put("ts", row.getOffsetDateTime("created_at").toInstant().toString());
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
