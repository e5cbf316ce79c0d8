package com.scairelay.webhooks;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.targets.Outbox;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Queues every audit event for each live subscription whose categories and filters match, in the
 * event's transaction. A paused subscription takes the event only below its {@code queue_limit};
 * beyond it the event is counted as dropped for the pause episode. The drop of a subscription's own
 * delivery is never sent to it.
 */
public final class WebhookFanOut implements AuditLog.FanOut {
  private static final String ACCEPTING = """
      WITH matching AS (
        SELECT w.id, w.paused, w.queue_limit FROM webhooks w
        WHERE w.deleted_at IS NULL AND $1 = ANY (w.categories)
          AND (NOT (w.filters ? 'resource_ids') OR w.filters -> 'resource_ids' ? coalesce($2, ''))
          AND (NOT (w.filters ? 'user_ids') OR w.filters -> 'user_ids' ? coalesce($3, ''))
          AND (NOT (w.filters ? 'ips') OR w.filters -> 'ips' ? coalesce($4, ''))
          AND NOT ($5 = 'webhook.delivery_dropped' AND w.id = $2)
      ), accepted AS (
        SELECT m.id FROM matching m
        WHERE NOT m.paused OR %s < m.queue_limit
      ), overflow AS (
        UPDATE webhooks w SET dropped_while_paused = w.dropped_while_paused + 1
        FROM matching m WHERE w.id = m.id AND m.id NOT IN (SELECT id FROM accepted)
      )
      SELECT id FROM accepted ORDER BY id""".formatted(pending("m.id"));

  /** How many deliveries the subscription {@code id} (an SQL expression) has queued. */
  static String pending(String id) {
    return "(SELECT count(*) FROM deliveries d WHERE d.target_id = %s AND d.status = 'pending')".formatted(id);
  }

  @Override
  public Future<Void> deliver(Outbox.Tx tx, AuditEvent e) {
    Tuple args = Tuple.tuple(Arrays.asList(e.category().name(), e.resourceId(), e.userId(), e.ip(), e.action()));
    return tx.preparedQuery(ACCEPTING).execute(args).compose(rows -> {
      List<String> targets = new ArrayList<>();
      rows.forEach(row -> targets.add(row.getString(0)));
      return tx.enqueue(WebhookTargets.KIND, targets, Collections.nCopies(targets.size(), e.eventId()), e.timestamp());
    });
  }
}
