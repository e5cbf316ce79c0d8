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
  private static final String HEAD = """
      SELECT id, next_attempt_at, lease_owner, lease_expires_at FROM deliveries
      WHERE target_id = $1 AND status = 'pending' ORDER BY id LIMIT $2""";
  /** Leases those of the given rows nobody holds: FOR UPDATE SKIP LOCKED, and an expiry. */
  private static final String LEASE = """
      WITH claimable AS (
        SELECT id FROM deliveries
        WHERE id = ANY($1) AND status = 'pending' AND next_attempt_at <= $3
          AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
        FOR UPDATE SKIP LOCKED
      )
      UPDATE deliveries d SET lease_owner = $2, lease_expires_at = $4, updated_at = $3
      """;
  private static final String RELEASE = """
      UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ANY($1) AND lease_owner = $2""";
  private static final String DUE_TARGETS = """
      SELECT DISTINCT d.target_id, d.target_kind FROM deliveries d
      WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
        AND NOT (CASE d.target_kind %s ELSE false END)
      LIMIT $2""";
  private static final String RECENT = """
      SELECT id, event_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at
      FROM deliveries WHERE target_id = $1 ORDER BY id DESC LIMIT $2""";
  private static final String ATTEMPTS = """
      SELECT delivery_id, attempted_at, outcome, status_code, latency_ms, error, foreign_id
      FROM delivery_attempts WHERE delivery_id = ANY($1) ORDER BY id""";

  /** One row of a target's queue head. */
  record Head(long id, Instant nextAttemptAt, String leaseOwner, Instant leaseExpiresAt) {
    boolean leasedBy(String node, Instant now) {
      return node.equals(leaseOwner) && leaseExpiresAt != null && leaseExpiresAt.isAfter(now);
    }

    /** When this row may be claimed, or null when it may be now. */
    Instant blockedUntil(Instant now) {
      Instant until = null;
      if (nextAttemptAt.isAfter(now)) {
        until = nextAttemptAt;
      }
      if (leaseExpiresAt != null && leaseExpiresAt.isAfter(now) && (until == null || leaseExpiresAt.isAfter(until))) {
        until = leaseExpiresAt;
      }
      return until;
    }
  }

  /** A target with due rows, for the sweep. */
  record Due(String targetId, String kind) {
  }

  private final Pool pool;
  private final Map<String, String> claims = new HashMap<>();
  private final String dueTargets;

  DeliveryStore(Pool pool, TargetKinds kinds) {
    this.pool = pool;
    StringBuilder held = new StringBuilder();
    for (TargetKind kind : kinds.all()) {
      claims.put(kind.name(), LEASE + kind.claimJoin());
      held.append("WHEN '").append(kind.name()).append("' THEN ").append(kind.held()).append(' ');
    }
    this.dueTargets = DUE_TARGETS.formatted(held);
  }

  Future<List<Head>> head(String targetId, int limit) {
    return pool.preparedQuery(HEAD).execute(Tuple.of(targetId, limit)).map(rows -> {
      List<Head> head = new ArrayList<>();
      for (Row row : rows) {
        head.add(new Head(row.getLong("id"), row.getOffsetDateTime("next_attempt_at").toInstant(),
            row.getString("lease_owner"), instant(row.getOffsetDateTime("lease_expires_at"))));
      }
      return head;
    });
  }

  /** Leases those of {@code ids} that are still claimable, in queue order, with the payload of each. */
  Future<List<Claimed>> claim(TargetKind kind, List<Long> ids, String node, Instant now, Instant leaseUntil) {
    Tuple args = Tuple.of(ids.toArray(Long[]::new), node, utc(now), utc(leaseUntil));
    return pool.preparedQuery(claims.get(kind.name())).execute(args).map(rows -> {
      List<Claimed> claimed = new ArrayList<>();
      for (Row row : rows) {
        claimed.add(new Claimed(row.getLong("id"), row.getString("event_id"), row.getInteger("attempts"),
            row.getInteger("rate_limited"), instant(row.getOffsetDateTime("first_failed_at")), kind.payload().apply(row)));
      }
      claimed.sort(Comparator.comparingLong(Claimed::id));
      return claimed;
    });
  }

  /** Gives leases back without an attempt (not sent: the breaker refused, a retry or a pause holds the queue). */
  Future<Void> release(List<Long> ids, String node) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(ids.toArray(Long[]::new), node)).mapEmpty();
  }

  /** Targets with deliveries due now that nobody holds, for the sweep. */
  Future<List<Due>> dueTargets(Instant now, int limit) {
    return pool.preparedQuery(dueTargets).execute(Tuple.of(utc(now), limit)).map(rows -> {
      List<Due> targets = new ArrayList<>();
      rows.forEach(row -> targets.add(new Due(row.getString(0), row.getString(1))));
      return targets;
    });
  }

  /** The delivery log of a target: newest deliveries first, each with its attempts oldest first. */
  Future<JsonArray> recent(String targetId, int limit) {
    return pool.preparedQuery(RECENT).execute(Tuple.of(targetId, limit)).compose(rows -> {
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

  private static Instant instant(OffsetDateTime value) {
    return value == null ? null : value.toInstant();
  }
}
