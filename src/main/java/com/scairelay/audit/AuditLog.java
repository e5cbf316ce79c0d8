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
  /**
   * A page of the log: {@code %s} holds the conditions of the filters given, each a plain comparison
   * ({@code category = $1}), so each combination is its own prepared statement whose plan uses the
   * index for it (V1, V17) rather than a generic plan of {@code $1 IS NULL OR ...}.
   */
  private static final String PAGE = """
      SELECT seq, event_id, timestamp, category, action, user_id, resource_id, payload, service_account, ip
      FROM audit_events WHERE %s ORDER BY seq %s LIMIT $%d""";
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

  /**
   * Stores an event in the caller's transaction without fanning it out: the caller queues it to the
   * one subscriber it is for (a webhook's test event). Not logged.
   */
  public Future<Void> storeOnly(Outbox.Tx tx, AuditEvent e) {
    Tuple row = Tuple.tuple(Arrays.asList(e.eventId(), utc(e.timestamp()), e.category().name(), e.action(),
        e.userId(), e.resourceId(), e.payload(), e.serviceAccount(), e.ip()));
    return tx.preparedQuery(INSERT).execute(row).mapEmpty();
  }

  /** Records an event a producer published ({@code POST /v1/events}), in a transaction of its own; not logged. */
  public Future<Void> recordPublished(AuditEvent e) {
    return outbox.inTransaction(tx -> insert(tx, e));
  }

  private Future<Void> insert(Outbox.Tx tx, AuditEvent e) {
    return storeOnly(tx, e).compose(v -> fanOut.deliver(tx, e));
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

  /**
   * A page of events, oldest first after {@code query.cursor()} (null: from the start) or newest first
   * before it; a cursor that names no event is a 400.
   */
  public Future<List<AuditEvent>> page(AuditQuery query) {
    String where = query.newestFirst() ? "query parameter 'before'" : "query parameter 'after'";
    Future<Long> from = query.cursor() == null
        ? Future.succeededFuture(query.newestFirst() ? Long.MAX_VALUE : 0L)
        : pool.preparedQuery(SEQ).execute(Tuple.of(query.cursor())).map(rows -> {
          if (rows.size() == 0) {
            throw ProblemException.badRequest(where + ": there is no audit event " + query.cursor());
          }
          return rows.iterator().next().getLong(0);
        });
    return from.compose(seq -> {
      List<String> conditions = new ArrayList<>();
      Tuple args = Tuple.tuple();
      condition(conditions, args, "category = $%d", query.category() == null ? null : query.category().name());
      condition(conditions, args, "action = $%d", query.action());
      condition(conditions, args, "resource_id = $%d", query.resourceId());
      condition(conditions, args, "user_id = $%d", query.userId());
      condition(conditions, args, "timestamp >= $%d", query.since() == null ? null : utc(query.since()));
      condition(conditions, args, "timestamp < $%d", query.until() == null ? null : utc(query.until()));
      condition(conditions, args, query.newestFirst() ? "seq < $%d" : "seq > $%d", seq);
      args.addValue(query.limit());
      String sql = PAGE.formatted(String.join(" AND ", conditions), query.newestFirst() ? "DESC" : "", args.size());
      return pool.preparedQuery(sql).execute(args);
    }).map(rows -> {
      List<AuditEvent> events = new ArrayList<>();
      for (Row row : rows) {
        events.add(new AuditEvent(row.getString("event_id"), row.getOffsetDateTime("timestamp").toInstant(),
            Category.valueOf(row.getString("category")), row.getString("action"), row.getString("user_id"),
            row.getString("resource_id"), (JsonObject) row.getValue("payload"), row.getString("service_account"), row.getString("ip")));
      }
      return events;
    });
  }

  /** Adds {@code sql} (with {@code %d} for its parameter's number) and its value, when a value is given. */
  private static void condition(List<String> conditions, Tuple args, String sql, Object value) {
    if (value != null) {
      args.addValue(value);
      conditions.add(sql.formatted(args.size()));
    }
  }
}
