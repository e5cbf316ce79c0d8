package com.scairelay.targets;

import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.scairelay.store.Times.utc;

/**
 * Replays of a target's deliveries, in the caller's transaction: a resend of one delivery, and a
 * recovery of those that failed for good within a time window. Each queues a new delivery of the same
 * event for the same target, at the back of its queue, and links the two ({@code resent_from} on the
 * new row, {@code resent_as} on the old one): the log keeps the old delivery with its attempts, and a
 * failure once re-queued is not recovered again. A kind whose queue is bounded ({@link TargetKind#queueRoom})
 * takes no more than it has room for. The target is woken once the transaction commits.
 */
final class Replays {
  /**
   * Queues a copy of each of the target's deliveries that {@code %1$s} selects, in delivery order, at
   * most {@code $4} and no more than the kind's room ({@code %2$s}); the originals are locked, so two
   * replays at once cannot both queue one, and name their copy.
   */
  private static final String REQUEUE = """
      WITH picked AS (
        SELECT d.id, d.event_id FROM deliveries d
        WHERE d.target_id = $1 AND d.target_kind = $2 AND %1$s AND %3$s
        ORDER BY d.id LIMIT least($4::bigint, coalesce((%2$s), $4::bigint))
        FOR UPDATE
      ), queued AS (
        INSERT INTO deliveries (target_id, target_kind, event_id, next_attempt_at, created_at, updated_at, resent_from)
        SELECT $1, $2, p.event_id, $3, $3, $3, p.id FROM picked p ORDER BY p.id
        RETURNING id, resent_from
      ), linked AS (
        UPDATE deliveries d SET resent_as = q.id FROM queued q WHERE d.id = q.resent_from
      )
      SELECT id, resent_from FROM queued ORDER BY id""";
  private static final String ONE = "d.id = $5 AND d.status <> 'pending'";
  /**
   * Failed for good at a time in [{@code $m}, {@code $n}], both ends included (windows that touch overlap
   * harmlessly: what one re-queued the other skips), and not re-queued since; its last attempt set {@code updated_at}.
   */
  private static final String FAILED_IN_WINDOW = "d.status = 'failed' AND d.resent_as IS NULL AND d.updated_at >= $%d AND d.updated_at <= $%d";
  private static final String FIND = """
      SELECT d.id, d.event_id, d.status, d.attempts, d.next_attempt_at, (%s) AS payload_kept FROM deliveries d
      WHERE d.id = $1 AND d.target_id = $2 AND d.target_kind = $3""";
  private static final String COUNT_FAILED = "SELECT count(*) FROM deliveries d WHERE d.target_id = $1 AND d.target_kind = $2 AND "
      + FAILED_IN_WINDOW.formatted(3, 4) + " AND %s";

  /** A delivery queued again: the new one, the one it repeats, and what that one had become. */
  record Resent(long deliveryId, long resentFrom, String eventId, String previousStatus) {
    JsonObject toJson() {
      return new JsonObject().put("delivery_id", deliveryId).put("resent_from", resentFrom).put("event_id", eventId)
          .put("previous_status", previousStatus).put("status", "pending");
    }
  }

  /** What a recovery queued, in order (new ids), and how many failures of the window are left (beyond its limit or the target's room). */
  record Recovered(List<Long> deliveryIds, long remaining) {
    JsonObject toJson(int shown) {
      return new JsonObject().put("recovered", deliveryIds.size()).put("remaining", remaining)
          .put("delivery_ids", new JsonArray(new ArrayList<>(deliveryIds.subList(0, Math.min(shown, deliveryIds.size())))));
    }
  }

  private final Map<String, String> resends = new HashMap<>();
  private final Map<String, String> recoveries = new HashMap<>();
  private final Map<String, String> finds = new HashMap<>();
  private final Map<String, String> failedCounts = new HashMap<>();

  Replays(TargetKinds kinds) {
    for (TargetKind kind : kinds.all()) {
      resends.put(kind.name(), REQUEUE.formatted(ONE, kind.queueRoom(), kind.payloadKept()));
      recoveries.put(kind.name(), REQUEUE.formatted(FAILED_IN_WINDOW.formatted(5, 6), kind.queueRoom(), kind.payloadKept()));
      finds.put(kind.name(), FIND.formatted(kind.payloadKept()));
      failedCounts.put(kind.name(), COUNT_FAILED.formatted(kind.payloadKept()));
    }
  }

  /**
   * Queues delivery {@code deliveryId} of the target again: 404 when the target has no such delivery,
   * 409 when it is still pending (it is sent when due) or the target has no room for it.
   */
  Future<Resent> resend(Outbox.Tx tx, TargetKind kind, String targetId, long deliveryId, Instant now) {
    return tx.preparedQuery(finds.get(kind.name())).execute(Tuple.of(deliveryId, targetId, kind.name())).compose(found -> {
      if (found.size() == 0) {
        throw ProblemException.notFound(kind.name() + " " + targetId + " has no delivery " + deliveryId);
      }
      Row original = found.iterator().next();
      String status = original.getString("status");
      if ("pending".equals(status)) {
        throw new ProblemException(409, "Conflict", "delivery " + deliveryId + " of " + kind.name() + " " + targetId
            + " is still pending (" + original.getInteger("attempts") + " attempts so far, next at "
            + original.getOffsetDateTime("next_attempt_at").toInstant() + "): it is sent when due; resend it once it is delivered or failed");
      }
      if (!original.getBoolean("payload_kept")) {
        throw new ProblemException(409, "Conflict", "delivery " + deliveryId + " of " + kind.name() + " " + targetId
            + " cannot be sent again: its event " + original.getString("event_id") + " is no longer stored (retention purged it)");
      }
      Tuple args = Tuple.of(targetId, kind.name(), utc(now), 1, deliveryId);
      return tx.preparedQuery(resends.get(kind.name())).execute(args).map(rows -> {
        List<Long> ids = queued(tx, kind, targetId, rows);
        if (ids.isEmpty()) {
          // The row was there and not pending: only the target's room can have kept it out.
          throw new ProblemException(409, "Conflict", kind.name() + " " + targetId
              + " takes no more deliveries now (it is paused and its queue is at its limit): resume it or raise its limit, then resend");
        }
        return new Resent(ids.get(0), deliveryId, original.getString("event_id"), status);
      });
    });
  }

  /** Queues again, in delivery order, at most {@code limit} of the target's deliveries that failed for good in [since, until]. */
  Future<Recovered> recover(Outbox.Tx tx, TargetKind kind, String targetId, Instant since, Instant until, int limit, Instant now) {
    Tuple args = Tuple.of(targetId, kind.name(), utc(now), limit, utc(since), utc(until));
    return tx.preparedQuery(recoveries.get(kind.name())).execute(args)
        .compose(rows -> {
          List<Long> ids = queued(tx, kind, targetId, rows);
          return tx.preparedQuery(failedCounts.get(kind.name())).execute(Tuple.of(targetId, kind.name(), utc(since), utc(until)))
              .map(left -> new Recovered(ids, left.iterator().next().getLong(0)));
        });
  }

  private static List<Long> queued(Outbox.Tx tx, TargetKind kind, String targetId, RowSet<Row> rows) {
    List<Long> ids = new ArrayList<>();
    rows.forEach(row -> ids.add(row.getLong("id")));
    if (!ids.isEmpty()) {
      tx.queued(kind.name(), List.of(targetId));
    }
    return ids;
  }
}
