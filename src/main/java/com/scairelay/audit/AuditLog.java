package com.scairelay.audit;

import static com.scairelay.store.Times.utc;

import com.scairelay.auth.Principal;
import com.scairelay.ingress.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Writes audit events (in the caller's transaction when given one) and reads them back in pages. */
public final class AuditLog {
  private static final String INSERT = """
      INSERT INTO audit_events (event_id, timestamp, category, action, user_id, resource_id, payload, service_account, ip)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""";
  /**
   * One delivery per live subscription whose categories and filters match, in the event's transaction.
   * A paused subscription takes the event only below its queue_limit; beyond it the event is counted
   * as dropped for the pause episode. The drop of a subscription's own delivery is never sent to it.
   */
  private static final String FAN_OUT = """
      WITH matching AS (
        SELECT w.id, w.paused, w.queue_limit FROM webhooks w
        WHERE w.deleted_at IS NULL AND $3 = ANY (w.categories)
          AND (NOT (w.filters ? 'resource_ids') OR w.filters -> 'resource_ids' ? coalesce($4, ''))
          AND (NOT (w.filters ? 'user_ids') OR w.filters -> 'user_ids' ? coalesce($5, ''))
          AND (NOT (w.filters ? 'ips') OR w.filters -> 'ips' ? coalesce($6, ''))
          AND NOT ($7 = 'webhook.delivery_dropped' AND w.id = $4)
      ), accepted AS (
        SELECT m.id FROM matching m
        WHERE NOT m.paused OR (SELECT count(*) FROM deliveries d WHERE d.target_id = m.id AND d.status = 'pending') < m.queue_limit
      ), overflow AS (
        UPDATE webhooks w SET dropped_while_paused = w.dropped_while_paused + 1
        FROM matching m WHERE w.id = m.id AND m.id NOT IN (SELECT id FROM accepted)
      )
      INSERT INTO deliveries (target_id, target_kind, event_id, next_attempt_at, created_at, updated_at)
      SELECT id, 'webhook', $1, $2, $2, $2 FROM accepted""";
  private static final String PAGE = """
      SELECT seq, event_id, timestamp, category, action, user_id, resource_id, payload, service_account, ip
      FROM audit_events
      WHERE ($1::text IS NULL OR category = $1) AND ($2::text IS NULL OR action = $2)
        AND seq > $3
      ORDER BY seq LIMIT $4""";
  private static final String SEQ = "SELECT seq FROM audit_events WHERE event_id = $1";

  private final Pool pool;
  private final Clock clock;

  public AuditLog(Pool pool, Clock clock) {
    this.pool = pool;
    this.clock = clock;
  }

  public AuditEvent event(Category category, String action, String userId, String resourceId, JsonObject payload) {
    return AuditEvent.of(clock.instant(), category, action, userId, resourceId, payload);
  }

  /** An {@code ADMIN} event done by {@code who}, naming the application acting for them if any. */
  public AuditEvent adminEvent(Principal who, String action, String resourceId, JsonObject payload) {
    return event(Category.ADMIN, action, who.userId(), resourceId, payload).withServiceAccount(who.serviceAccount());
  }

  /**
   * Records the event through {@code conn} (pass the transaction's connection to commit it with the
   * change) and queues it for every matching webhook subscription in the same transaction.
   */
  public Future<Void> record(SqlConnection conn, AuditEvent e) {
    Tuple row = Tuple.tuple(java.util.Arrays.asList(e.eventId(), utc(e.timestamp()), e.category().name(), e.action(),
        e.userId(), e.resourceId(), e.payload(), e.serviceAccount(), e.ip()));
    Tuple fanOut = Tuple.tuple(java.util.Arrays.asList(e.eventId(), utc(e.timestamp()), e.category().name(), e.resourceId(),
        e.userId(), e.ip(), e.action()));
    return conn.preparedQuery(INSERT).execute(row)
        .compose(v -> conn.preparedQuery(FAN_OUT).execute(fanOut))
        .mapEmpty();
  }

  /** Records the event in a transaction of its own. */
  public Future<Void> record(AuditEvent e) {
    return pool.withTransaction(conn -> record(conn, e));
  }

  /**
   * Runs one change in a transaction and records its audit event in the same transaction, only when
   * the change touched a row. Answers whether it did.
   */
  public Future<Boolean> changing(AuditEvent event, Function<SqlConnection, Future<RowSet<Row>>> change) {
    return pool.withTransaction(conn -> change.apply(conn).compose(rows -> rows.rowCount() == 0
        ? Future.succeededFuture(false)
        : record(conn, event).map(true)));
  }

  /** Events oldest first after the event id {@code after} (null: from the start), optionally filtered. */
  public Future<List<AuditEvent>> page(String category, String action, String after, int limit) {
    Future<Long> from = after == null || after.isEmpty()
        ? Future.succeededFuture(0L)
        : pool.preparedQuery(SEQ).execute(Tuple.of(after)).map(rows -> {
          if (rows.size() == 0) {
            throw ProblemException.badRequest("query parameter 'after': there is no audit event " + after);
          }
          return rows.iterator().next().getLong(0);
        });
    return from
        .compose(seq -> pool.preparedQuery(PAGE).execute(Tuple.of(category, action, seq, limit)))
        .map(rows -> {
          List<AuditEvent> events = new ArrayList<>();
          for (Row row : rows) {
            events.add(new AuditEvent(row.getString("event_id"), row.getOffsetDateTime("timestamp").toInstant(),
                Category.valueOf(row.getString("category")), row.getString("action"), row.getString("user_id"),
                row.getString("resource_id"), (JsonObject) row.getValue("payload"), row.getString("service_account"), row.getString("ip")));
          }
          return events;
        });
  }
}
