package com.scairelay.audit;

import static com.scairelay.store.Times.utc;

import com.scairelay.http.Caller;
import com.scairelay.targets.Outbox;
import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Writes audit events (in the caller's transaction when given one) and reads them back in pages. Once an
 * {@code ADMIN} event of the node's own has committed, it is logged too (action, resource, who; never the payload).
 */
public final class AuditLog {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  private static final String INSERT = """
      INSERT INTO audit_events (event_id, timestamp, category, action, user_id, resource_id, payload, service_account, ip)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""";
  private static final String PAGE = """
      SELECT seq, event_id, timestamp, category, action, user_id, resource_id, payload, service_account, ip
      FROM audit_events
      WHERE ($1::text IS NULL OR category = $1) AND ($2::text IS NULL OR action = $2)
        AND seq > $3
      ORDER BY seq LIMIT $4""";
  private static final String SEQ = "SELECT seq FROM audit_events WHERE event_id = $1";

  /** Queues an event, in its transaction, for whatever subscribes to audit events (webhook subscriptions). */
  @FunctionalInterface
  public interface FanOut {
    Future<Void> deliver(Outbox.Tx tx, AuditEvent event);
  }

  private final Pool pool;
  private final Outbox outbox;
  private final Clock clock;
  private final FanOut fanOut;

  public AuditLog(Pool pool, Outbox outbox, Clock clock, FanOut fanOut) {
    this.pool = pool;
    this.outbox = outbox;
    this.clock = clock;
    this.fanOut = fanOut;
  }

  public AuditEvent event(Category category, String action, String userId, String resourceId, JsonObject payload) {
    return AuditEvent.of(clock.instant(), category, action, userId, resourceId, payload);
  }

  /** An {@code ADMIN} event done by {@code who}, naming the application acting for them if any. */
  public AuditEvent adminEvent(Caller who, String action, String resourceId, JsonObject payload) {
    return event(Category.ADMIN, action, who.userId(), resourceId, payload).withServiceAccount(who.serviceAccount());
  }

  /**
   * Records the event in the caller's transaction (so it commits with the change) and fans it out to
   * its subscribers in the same transaction.
   */
  public Future<Void> record(Outbox.Tx tx, AuditEvent e) {
    if (e.category() == Category.ADMIN) {
      tx.afterCommit(() -> logAdminChange(e));
    }
    return insert(tx, e);
  }

  /** Records an event a producer published ({@code POST /v1/events}), in a transaction of its own; not logged. */
  public Future<Void> recordPublished(AuditEvent e) {
    return outbox.inTransaction(tx -> insert(tx, e));
  }

  private Future<Void> insert(Outbox.Tx tx, AuditEvent e) {
    Tuple row = Tuple.tuple(Arrays.asList(e.eventId(), utc(e.timestamp()), e.category().name(), e.action(),
        e.userId(), e.resourceId(), e.payload(), e.serviceAccount(), e.ip()));
    return tx.preparedQuery(INSERT).execute(row).compose(v -> fanOut.deliver(tx, e));
  }

  private static void logAdminChange(AuditEvent e) {
    log.info("admin change: {} {} by {}{} (audit event {})", e.action(), e.resourceId() == null ? "-" : e.resourceId(),
        e.userId() == null ? "the node" : e.userId(), e.serviceAccount() == null ? "" : " acting through " + e.serviceAccount(), e.eventId());
  }

  /** Records the event in a transaction of its own. */
  public Future<Void> record(AuditEvent e) {
    return outbox.inTransaction(tx -> record(tx, e));
  }

  /**
   * Runs one change in a transaction and records its audit event in the same transaction, only when
   * the change touched a row. Answers whether it did.
   */
  public Future<Boolean> changing(AuditEvent event, Function<Outbox.Tx, Future<RowSet<Row>>> change) {
    return outbox.inTransaction(tx -> change.apply(tx).compose(rows -> rows.rowCount() == 0
        ? Future.succeededFuture(false)
        : record(tx, event).map(true)));
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
