package com.scairelay.targets;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.scairelay.store.Times.utc;

/**
 * The outbox in PostgreSQL: the head of a target's queue, claims with a lease ({@code FOR UPDATE SKIP
 * LOCKED} and an expiry, so two nodes can never hold the same attempt), the sweep for due rows, and
 * the delivery log. Results are written by {@link ResultWriter}.
 */
final class DeliveryStore {
  /**
   * The head of a target's queue, claimed in one statement by the node that holds the target
   * ({@code fence}: its row in {@code target_owners}; without it nothing is claimed and {@code owned}
   * is false). Of the target's first {@code $2} pending rows, the ones the actor has open are
   * skipped ({@code mine}, {@code $7}: in flight or being written); the rest are claimable up to the first retry
   * not due ({@code stop}), at most {@code $6} of them, each not locked by another claim ({@code FOR
   * UPDATE SKIP LOCKED}). A row leased by another node is claimable: that node no longer holds the
   * target, so it released the target after its last answer or its node lease ran out, and it sends
   * nothing more. Rows are leased to {@code $3} until {@code $5} (no indexed column changes, so the
   * row is updated in place: a HOT update); the kind's join reads their payload. The answer has a row
   * even when nothing was claimed, for {@code wait_until} (when the stopping row may go) and {@code owned}.
   */
  private static final String CLAIM_HEAD = """
      WITH fence AS (
        SELECT 1 FROM target_owners WHERE target_id = $1 AND node_id = $3
      ), head AS (
        SELECT id, next_attempt_at, lease_owner, lease_expires_at FROM deliveries
        WHERE target_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM fence) ORDER BY id LIMIT $2
      ), mine AS (
        SELECT id FROM head WHERE id = ANY($7)
      ), stop AS (
        SELECT id, next_attempt_at AS until FROM head
        WHERE id NOT IN (SELECT id FROM mine) AND next_attempt_at > $4
        ORDER BY id LIMIT 1
      ), claimable AS (
        SELECT d.id FROM deliveries d JOIN head h ON h.id = d.id
        WHERE h.id NOT IN (SELECT id FROM mine) AND h.id < coalesce((SELECT id FROM stop), 9223372036854775807)
        ORDER BY d.id LIMIT $6
        FOR UPDATE OF d SKIP LOCKED
      ), leased AS (
        UPDATE deliveries d SET lease_owner = $3, lease_expires_at = $5
        %s
      )
      SELECT l.*, (SELECT until FROM stop) AS wait_until, EXISTS (SELECT 1 FROM fence) AS owned
      FROM (SELECT 1) AS one LEFT JOIN leased l ON true""";
  /**
   * Takes the target for {@code $3}: it has no holder yet, {@code $3} holds it already, or its holder's
   * node lease ran out (by PostgreSQL's clock); a take-over counts a new epoch. No row: another live
   * node holds it.
   */
  private static final String ACQUIRE = """
      INSERT INTO target_owners AS o (target_id, target_kind, node_id, epoch, acquired_at) VALUES ($1, $2, $3, 1, now())
      ON CONFLICT (target_id) DO UPDATE SET node_id = $3, epoch = o.epoch + 1, acquired_at = now()
      WHERE o.node_id <> $3 AND NOT EXISTS (SELECT 1 FROM relay_nodes n WHERE n.node_id = o.node_id AND n.expires_at > now())
      RETURNING epoch""";
  private static final String HELD_BY = "SELECT epoch FROM target_owners WHERE target_id = $1 AND node_id = $2";
  /** Released, the row stays with no holder ({@code ''}, never a node) so the next take-over counts on from its epoch. */
  private static final String RELEASE_TARGET = "UPDATE target_owners SET node_id = '' WHERE target_id = $1 AND node_id = $2";
  private static final String RELEASE = """
      UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ANY($1) AND lease_owner = $2""";
  private static final String DUE_TARGETS = """
      SELECT DISTINCT d.target_id, d.target_kind FROM deliveries d
      WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
        AND NOT (CASE d.target_kind %1$s ELSE false END)
      UNION
      SELECT d.target_id, d.target_kind FROM target_owners d
      WHERE NOT EXISTS (SELECT 1 FROM relay_nodes n WHERE n.node_id = d.node_id AND n.expires_at > now())
        AND EXISTS (SELECT 1 FROM deliveries p WHERE p.target_id = d.target_id AND p.status = 'pending')
        AND NOT (CASE d.target_kind %1$s ELSE false END)
      LIMIT $2""";
  /**
   * A page of the delivery log: the target's deliveries before the cursor {@code $2}, newest first, last
   * changed at or after {@code $3} when given; {@code %s} narrows it to one status (a literal, so the
   * partial indexes of pending and failed rows serve it).
   */
  private static final String PAGE = """
      SELECT id, event_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at,
             resent_from, resent_as
      FROM deliveries WHERE target_id = $1 AND id < $2 AND ($3::timestamptz IS NULL OR updated_at >= $3) %s
      ORDER BY id DESC LIMIT $4""";
  /** The statuses a delivery has, as the log shows and filters them. */
  static final List<String> STATUSES = List.of("pending", "delivered", "failed", "cancelled");
  private static final String TOTALS = """
      SELECT
        (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM
           (SELECT status, count(*) AS n FROM deliveries WHERE target_id = $1 GROUP BY status) s) AS deliveries,
        (SELECT coalesce(jsonb_object_agg(outcome, n), '{}') FROM
           (SELECT a.outcome, count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
            WHERE d.target_id = $1 GROUP BY a.outcome) o) AS attempts""";
  private static final String ATTEMPTS = """
      SELECT delivery_id, attempted_at, outcome, status_code, latency_ms, error, foreign_id
      FROM delivery_attempts WHERE delivery_id = ANY($1) ORDER BY id""";

  /**
   * What a claim of the head found: the rows claimed, in order, when the row that stopped it may go,
   * and whether this node still holds the target.
   */
  record Head(List<Claimed> claimed, Instant waitUntil, boolean owned) {
  }

  /** A target with due rows, for the sweep. */
  record Due(String targetId, String kind) {
  }

  /** Which deliveries of a target a page of the log shows: before {@code cursor} (a delivery id; null: the newest), of {@code status} and changed since {@code since} when given. */
  record Page(String status, Instant since, Long cursor, int limit) {
  }

  private final Pool pool;
  private final Map<String, String> claims = new HashMap<>();
  private final Map<String, String> pages = new HashMap<>();
  private final String dueTargets;

  DeliveryStore(Pool pool, TargetKinds kinds) {
    this.pool = pool;
    StringBuilder held = new StringBuilder();
    for (TargetKind kind : kinds.all()) {
      claims.put(kind.name(), CLAIM_HEAD.formatted(kind.claimJoin()));
      held.append("WHEN '").append(kind.name()).append("' THEN ").append(kind.held()).append(' ');
    }
    this.dueTargets = DUE_TARGETS.formatted(held);
    pages.put("", PAGE.formatted(""));
    STATUSES.forEach(status -> pages.put(status, PAGE.formatted("AND status = '" + status + "'")));
  }

  /** Claims the due head of the target's queue (see {@link #CLAIM_HEAD}), with the payload of each row. */
  Future<Head> claimHead(TargetKind kind, String targetId, int headLimit, int limit, String node, Instant now, Instant leaseUntil,
                         Long[] open) {
    Tuple args = Tuple.of(targetId, headLimit, node, utc(now), utc(leaseUntil), limit).addArrayOfLong(open);
    return pool.preparedQuery(claims.get(kind.name())).execute(args).map(rows -> {
      List<Claimed> claimed = new ArrayList<>();
      Instant waitUntil = null;
      boolean owned = false;
      for (Row row : rows) {
        waitUntil = instant(row.getOffsetDateTime("wait_until"));
        owned = row.getBoolean("owned");
        if (row.getValue("id") != null) {
          claimed.add(new Claimed(row.getLong("id"), row.getString("event_id"), row.getInteger("attempts"),
              row.getInteger("rate_limited"), instant(row.getOffsetDateTime("first_failed_at")), kind.payload().apply(row)));
        }
      }
      claimed.sort(Comparator.comparingLong(Claimed::id));
      return new Head(claimed, waitUntil, owned);
    });
  }

  /**
   * Makes {@code node} the holder of the target, which it must be to claim (see {@link #ACQUIRE});
   * answers whether it is.
   */
  Future<Boolean> acquire(TargetKind kind, String targetId, String node) {
    return pool.preparedQuery(ACQUIRE).execute(Tuple.of(targetId, kind.name(), node))
        .compose(rows -> rows.size() > 0 ? Future.succeededFuture(true)
            : pool.preparedQuery(HELD_BY).execute(Tuple.of(targetId, node)).map(held -> held.size() > 0));
  }

  /** Lets another node take the target at once: called once nothing of it is in flight here. */
  Future<Void> releaseTarget(String targetId, String node) {
    return pool.preparedQuery(RELEASE_TARGET).execute(Tuple.of(targetId, node)).mapEmpty();
  }

  /** Gives leases back without an attempt (not sent: the breaker refused, a retry or a pause holds the queue). */
  Future<Void> release(List<Long> ids, String node) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(ids.toArray(Long[]::new), node)).mapEmpty();
  }

  /**
   * Targets with deliveries due now that nobody holds, and targets with pending deliveries whose
   * holder's node lease ran out (a node that died), for the sweep.
   */
  Future<List<Due>> dueTargets(Instant now, int limit) {
    return pool.preparedQuery(dueTargets).execute(Tuple.of(utc(now), limit)).map(rows -> {
      List<Due> targets = new ArrayList<>();
      rows.forEach(row -> targets.add(new Due(row.getString(0), row.getString(1))));
      return targets;
    });
  }

  /** A page of the delivery log of a target: newest deliveries first, each with its attempts oldest first. */
  Future<JsonArray> page(String targetId, Page page) {
    Tuple args = Tuple.of(targetId, page.cursor() == null ? Long.MAX_VALUE : page.cursor(), utc(page.since()), page.limit());
    return pool.preparedQuery(pages.get(page.status() == null ? "" : page.status())).execute(args).compose(rows -> {
      Map<Long, JsonObject> byId = new HashMap<>();
      JsonArray deliveries = new JsonArray();
      for (Row row : rows) {
        JsonObject delivery = new JsonObject()
            .put("delivery_id", row.getLong("id"))
            .put("event_id", row.getString("event_id"))
            .put("status", row.getString("status"))
            .put("attempt_count", row.getInteger("attempts"))
            .put("next_attempt_at", "pending".equals(row.getString("status")) ? row.getOffsetDateTime("next_attempt_at").toInstant().toString() : null)
            .put("last_status_code", row.getInteger("last_status_code"))
            .put("last_error", row.getString("last_error"))
            .put("created_at", row.getOffsetDateTime("created_at").toInstant().toString())
            .put("updated_at", row.getOffsetDateTime("updated_at").toInstant().toString())
            .put("resent_from", row.getLong("resent_from"))
            .put("resent_as", row.getLong("resent_as"))
            .put("attempts", new JsonArray());
        byId.put(row.getLong("id"), delivery);
        deliveries.add(delivery);
      }
      if (byId.isEmpty()) {
        return Future.succeededFuture(deliveries);
      }
      return pool.preparedQuery(ATTEMPTS).execute(Tuple.of((Object) byId.keySet().toArray(Long[]::new))).map(attempts -> {
        for (Row row : attempts) {
          byId.get(row.getLong("delivery_id")).getJsonArray("attempts").add(new JsonObject()
              .put("at", row.getOffsetDateTime("attempted_at").toInstant().toString())
              .put("outcome", row.getString("outcome"))
              .put("status_code", row.getInteger("status_code"))
              .put("latency_ms", row.getInteger("latency_ms"))
              .put("error", row.getString("error"))
              .put("foreign_id", row.getString("foreign_id")));
        }
        return deliveries;
      });
    });
  }

  /** A target's deliveries by status and its attempts by outcome, over the delivery log kept. */
  Future<JsonObject> totals(String targetId) {
    return pool.preparedQuery(TOTALS).execute(Tuple.of(targetId)).map(rows -> {
      Row row = rows.iterator().next();
      return new JsonObject().put("deliveries", row.getJsonObject("deliveries")).put("attempts", row.getJsonObject("attempts"));
    });
  }

  private static Instant instant(OffsetDateTime value) {
    return value == null ? null : value.toInstant();
  }
}
