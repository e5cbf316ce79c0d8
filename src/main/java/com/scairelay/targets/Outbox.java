package com.scairelay.targets;

import com.scairelay.store.Purge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static com.scairelay.store.Times.utc;

/**
 * The outbox: the one owner of the {@code deliveries} table for every other part. Deliveries are
 * queued inside the caller's transaction ({@link #inTransaction}, {@link Tx#enqueue}); once it commits,
 * each target that got one is woken on its owner's node, the same way for every kind. Cancelling and
 * pruning are here too; claims and results belong to the queue actors.
 */
public final class Outbox {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Outbox.class);
  private static final String ENQUEUE = """
      INSERT INTO deliveries (target_id, target_kind, event_id, next_attempt_at, created_at, updated_at)
      SELECT t.target_id, $3, t.event_id, $4, $4, $4
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t (target_id, event_id, n)
      ORDER BY t.n""";
  private static final String ENQUEUE_ONE = """
      INSERT INTO deliveries (target_id, target_kind, event_id, next_attempt_at, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $4, $4) RETURNING id""";
  /**
   * A CTE that queues one delivery per row of {@code selection} (columns {@code target_id},
   * {@code event_id}, {@code n}, in {@code n} order) and answers the target ids, for a writer that must
   * queue deliveries inside a larger statement. {@code kind} and {@code now} are SQL expressions
   * (parameters). Register what it queued with {@link Tx#queued} so the targets are woken.
   */
  public static String enqueueCte(String name, String selection, String kind, String now) {
    return name + """
         AS (
          INSERT INTO deliveries (target_id, target_kind, event_id, next_attempt_at, created_at, updated_at)
          SELECT s.target_id, %s, s.event_id, %s, %s, %s FROM (%s) s ORDER BY s.n, s.target_id
          RETURNING target_id
        )""".formatted(kind, now, now, now, selection);
  }

  private static final String CANCEL_PENDING = """
      UPDATE deliveries SET status = 'cancelled', updated_at = $2
      WHERE target_id = $1 AND status = 'pending' RETURNING id, event_id""";
  /** Finished deliveries last changed before {@code $1}, with their attempts, at most {@code $2} of them. */
  private static final String PRUNE = """
      WITH old AS (
        SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 ORDER BY updated_at LIMIT $2
      ), attempts AS (
        DELETE FROM delivery_attempts a USING old WHERE a.delivery_id = old.id
      )
      DELETE FROM deliveries d USING old WHERE d.id = old.id""";

  /** A transaction that may queue deliveries; the targets it queued for are woken after it commits. */
  public static final class Tx {
    private final SqlConnection conn;
    private final Map<String, String> queued;
    private final List<Runnable> afterCommit;
    private Future<RowSet<Row>> committed;

    private Tx(SqlConnection conn, Map<String, String> queued, List<Runnable> afterCommit) {
      this.conn = conn;
      this.queued = queued;
      this.afterCommit = afterCommit;
    }

    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
      return conn.preparedQuery(sql);
    }

    /**
     * Sends COMMIT right behind {@code last}, the work's final statement, without waiting for its
     * answer: the transaction ends as soon as PostgreSQL has run it, not a round trip later. Should
     * {@code last} fail, PostgreSQL turns the COMMIT into a rollback.
     */
    public <T> Future<T> commitAfter(Future<T> last) {
      committed = conn.query("COMMIT").execute();
      return Future.all(last, committed).map(both -> last.result());
    }

    /** Queues one delivery of {@code eventIds[i]} to {@code targetIds[i]} (all of {@code kind}), in this order. */
    public Future<Void> enqueue(String kind, List<String> targetIds, List<String> eventIds, Instant now) {
      if (targetIds.isEmpty()) {
        return Future.succeededFuture();
      }
      Tuple rows = Tuple.of(targetIds.toArray(String[]::new), eventIds.toArray(String[]::new), kind, utc(now));
      return conn.preparedQuery(ENQUEUE).execute(rows).map(done -> {
        targetIds.forEach(id -> queued.put(id, kind));
        return null;
      });
    }

    /** Queues one delivery of {@code eventId} to {@code targetId}; answers its delivery id. */
    public Future<Long> enqueueOne(String kind, String targetId, String eventId, Instant now) {
      return conn.preparedQuery(ENQUEUE_ONE).execute(Tuple.of(targetId, kind, eventId, utc(now))).map(rows -> {
        queued.put(targetId, kind);
        return rows.iterator().next().getLong(0);
      });
    }

    /** Runs {@code action} once this transaction has committed (never if it rolls back). */
    public void afterCommit(Runnable action) {
      afterCommit.add(action);
    }

    /** Wakes these targets of {@code kind} after commit: deliveries queued for them by a statement of {@link #enqueueCte}. */
    public void queued(String kind, Iterable<String> targetIds) {
      targetIds.forEach(id -> queued.put(id, kind));
    }

    /** Cancels the target's queued deliveries; answers the rows cancelled ({@code id}, {@code event_id}). */
    public Future<RowSet<Row>> cancelPending(String targetId, Instant now) {
      return conn.preparedQuery(CANCEL_PENDING).execute(Tuple.of(targetId, utc(now)));
    }
  }

  /** Header of a wake-up sent on this node, so the quiet check counts it until it is taken. */
  static final String COUNTED = "counted";

  private final Vertx vertx;
  private final Pool pool;
  private final Pool leases;
  private final String nodeId;
  private final Ownership ownership;
  private final AtomicInteger localWakes = new AtomicInteger();

  /**
   * @param pool   for what must be durable when it commits: deliveries queued, results recorded
   * @param leases for claims, releases and reads of the queue; may commit without waiting for the
   *               disk ({@code synchronous_commit=off}): a lease is a hint that expires, and one lost
   *               in a PostgreSQL crash only lets the row be claimed again, as after its expiry
   */
  public Outbox(Vertx vertx, Pool pool, Pool leases, String nodeId, Ownership ownership) {
    this.vertx = vertx;
    this.pool = pool;
    this.leases = leases;
    this.nodeId = nodeId;
    this.ownership = ownership;
  }

  /**
   * Runs {@code work} in one transaction; after commit, wakes every target it queued deliveries for.
   * BEGIN goes out with the work's first statements, not before them: a transaction whose statements
   * are sent together costs one round trip and the COMMIT.
   */
  public <T> Future<T> inTransaction(Function<Tx, Future<T>> work) {
    Map<String, String> queued = new LinkedHashMap<>();
    List<Runnable> afterCommit = new ArrayList<>();
    return pool.getConnection().compose(conn -> {
      Future<RowSet<Row>> begun = conn.query("BEGIN").execute();
      Tx tx = new Tx(conn, queued, afterCommit);
      Future<T> done = work.apply(tx);
      return Future.all(begun, done)
          .transform(ar -> ar.succeeded()
              ? (tx.committed != null ? Future.succeededFuture(done.result()) : conn.query("COMMIT").execute().map(c -> done.result()))
              : conn.query("ROLLBACK").execute().<T>transform(rolledBack -> Future.failedFuture(ar.cause())))
          .eventually(conn::close);
    }).onSuccess(result -> {
      queued.forEach((targetId, kind) -> wake(kind, targetId));
      afterCommit.forEach(Runnable::run);
    });
  }

  /**
   * Tells the target's owner to look at its queue (new deliveries, a resumed or changed target). A
   * lost wake-up only delays: the owner's sweep finds due rows.
   */
  public void wake(String kind, String targetId) {
    wake(kind, targetId, false);
  }

  /** A wake-up sent to the owner this node sees; {@code forwarded} when passed on by a node that is not the owner. */
  void wake(String kind, String targetId, boolean forwarded) {
    String owner = ownership.ownerOf(targetId);
    boolean local = owner == null || owner.equals(nodeId);
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(local);
    if (local) {
      localWakes.incrementAndGet();
      options.addHeader(COUNTED, "1");
    }
    if (forwarded) {
      options.addHeader(TargetQueues.FORWARDED, "1");
    }
    try {
      vertx.eventBus().send(wakeAddress(local ? nodeId : owner), kind + ":" + targetId, options);
    } catch (RuntimeException e) {
      // Sending to a member that has just died can throw from the clustered event bus; this runs after a
      // commit, whose caller must still be answered. The owner's sweep finds the rows.
      if (local) {
        localWakes.decrementAndGet();
      }
      log.debug("wake-up of target {} for node {} not sent: {}", targetId, owner, e.toString());
    }
  }

  /** Finished deliveries (with their attempts) last changed before {@code before}, for the purge; pending ones are never purged. */
  public static Purge.Rows finishedBefore(Instant before) {
    return Purge.byStatement("finished deliveries", PRUNE, utc(before));
  }

  /**
   * An SQL query of the event ids among {@code eventIds} (a subquery) that a delivery is pending for, to
   * one of {@code targetIds} (a subquery): it reads only those targets' queues, once.
   */
  public static String pendingEvents(String eventIds, String targetIds) {
    return "SELECT DISTINCT d.event_id FROM deliveries d WHERE d.target_id IN (" + targetIds + ") AND d.status = 'pending'"
        + " AND d.event_id IN (" + eventIds + ")";
  }

  /** Where a node's delivery side hears wake-ups: one cluster-wide address per node, body {@code <kind>:<target id>}. */
  static String wakeAddress(String nodeId) {
    return "relay.targets.wake." + nodeId;
  }

  String nodeId() {
    return nodeId;
  }

  Ownership ownership() {
    return ownership;
  }

  Pool pool() {
    return pool;
  }

  Pool leases() {
    return leases;
  }

  /** Wake-ups sent on this node and not yet taken by its delivery side. */
  AtomicInteger localWakes() {
    return localWakes;
  }
}
