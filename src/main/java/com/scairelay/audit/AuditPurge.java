package com.scairelay.audit;

import com.scairelay.store.Purge;
import com.scairelay.targets.Outbox;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;

import static com.scairelay.store.Times.utc;

/**
 * Audit events older than a cutoff ({@code retention.audit_days}), for the purge: in the order they were
 * recorded, stopping at the first younger one. An event a webhook delivery is still pending for stays
 * until it is delivered or given up.
 */
public final class AuditPurge implements Purge.Rows {
  /**
   * The next {@code $3} audit events after {@code $1}; of those older than {@code $2}, the ones no
   * delivery to their subscribers ({@code %s}, a subquery of target ids) is pending for are deleted.
   */
  private static final String PURGE = """
      WITH batch AS (
        SELECT seq, event_id, timestamp FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $3
      ), old AS (
        SELECT seq, event_id FROM batch WHERE timestamp < $2
      ), held AS MATERIALIZED (
        %s
      ), gone AS (
        DELETE FROM audit_events a USING old WHERE a.seq = old.seq AND old.event_id NOT IN (SELECT event_id FROM held) RETURNING a.seq
      )
      SELECT (SELECT count(*) FROM batch) AS read, (SELECT count(*) FROM old) AS old, (SELECT max(seq) FROM batch) AS last,
             (SELECT count(*) FROM gone) AS purged""";

  private final String sql;
  private final Instant before;
  private long seqAfter;

  private AuditPurge(String sql, Instant before) {
    this.sql = sql;
    this.before = before;
  }

  /** Audit events recorded before {@code before}; {@code subscribers} is the SQL subquery of the targets audit events are delivered to. */
  public static Purge.Rows before(Instant before, String subscribers) {
    return new AuditPurge(PURGE.formatted(Outbox.pendingEvents("SELECT event_id FROM old", subscribers)), before);
  }

  @Override
  public String name() {
    return "audit events";
  }

  @Override
  public Future<Purge.Batch> next(SqlClient client, int limit) {
    return client.preparedQuery(sql).execute(Tuple.of(seqAfter, utc(before), limit)).map(rows -> {
      Purge.Walk walk = Purge.Walk.of(rows);
      if (walk.last() != null) {
        seqAfter = walk.last();
      }
      return walk.batch(limit);
    });
  }
}
