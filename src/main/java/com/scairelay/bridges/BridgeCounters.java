package com.scairelay.bridges;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import static com.scairelay.store.Times.utc;

/**
 * Inbound counters per bridge. Requests add to this node's tally in memory; {@link #flush()} adds the
 * tally to {@code bridge_counters} in one statement (the node calls it every second), so counting
 * costs the hot path no database write.
 */
public final class BridgeCounters {
  public enum Kind { ACCEPTED, DUPLICATE, SIGNATURE_FAILURE, REJECTED_PAUSED }

  private static final String UPSERT = """
      INSERT INTO bridge_counters AS c (bridge_id, accepted, duplicates, signature_failures, rejected_paused, last_inbound_at)
      SELECT t.* FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::timestamptz[])
        AS t (bridge_id, accepted, duplicates, signature_failures, rejected_paused, last_inbound_at)
      WHERE EXISTS (SELECT 1 FROM bridges b WHERE b.id = t.bridge_id)
      ON CONFLICT (bridge_id) DO UPDATE SET
        accepted = c.accepted + excluded.accepted,
        duplicates = c.duplicates + excluded.duplicates,
        signature_failures = c.signature_failures + excluded.signature_failures,
        rejected_paused = c.rejected_paused + excluded.rejected_paused,
        last_inbound_at = greatest(c.last_inbound_at, excluded.last_inbound_at)""";

  private static final class Tally {
    final long[] counts = new long[Kind.values().length];
    Instant last;

    boolean isEmpty() {
      return last == null && Arrays.stream(counts).allMatch(c -> c == 0);
    }

    void reset() {
      Arrays.fill(counts, 0);
      last = null;
    }
  }

  private final Pool pool;
  private final ConcurrentHashMap<String, Tally> tallies = new ConcurrentHashMap<>();

  public BridgeCounters(Pool pool) {
    this.pool = pool;
  }

  public void count(String bridgeId, Kind kind, Instant now) {
    Tally tally = tallies.computeIfAbsent(bridgeId, id -> new Tally());
    synchronized (tally) {
      tally.counts[kind.ordinal()]++;
      if (kind != Kind.SIGNATURE_FAILURE && (tally.last == null || now.isAfter(tally.last))) {
        tally.last = now;
      }
    }
  }

  /** Writes what was counted since the last flush. */
  public Future<Void> flush() {
    List<String> ids = new ArrayList<>();
    List<long[]> counts = new ArrayList<>();
    List<OffsetDateTime> lasts = new ArrayList<>();
    tallies.forEach((id, tally) -> {
      synchronized (tally) {
        if (tally.isEmpty()) {
          return;
        }
        ids.add(id);
        counts.add(tally.counts.clone());
        lasts.add(utc(tally.last));
        tally.reset();
      }
    });
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    Tuple columns = Tuple.tuple().addValue(ids.toArray(String[]::new));
    for (Kind kind : Kind.values()) {
      columns.addValue(counts.stream().map(c -> c[kind.ordinal()]).toArray(Long[]::new));
    }
    columns.addValue(lasts.toArray(OffsetDateTime[]::new));
    return pool.preparedQuery(UPSERT).execute(columns).mapEmpty();
  }
}
