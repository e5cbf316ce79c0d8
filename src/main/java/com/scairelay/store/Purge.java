package com.scairelay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The background purge (README, "Retention"): a pass deletes the old rows of each kind a batch at a
 * time, one short statement each, with a pause between two, on a connection of its own (no connection
 * of the node's pools is taken from traffic). Of the nodes of a cluster, one purges at a time: a pass
 * runs only while it holds a PostgreSQL advisory lock, released when its connection closes. The lock
 * only saves work; two passes at once would delete nothing they should not.
 */
public final class Purge {
  private static final Logger log = LoggerFactory.getLogger(Purge.class);
  /** The advisory lock of the purge: {@code hashtext('scairelay.retention')}, any constant no other lock uses. */
  private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('scairelay.retention'))";
  private static final long PROGRESS_EVERY_NANOS = 10_000_000_000L;

  /** One kind of row a pass purges, a batch at a time; made for one pass (it may keep where it is). */
  public interface Rows {
    /** What the rows are, in log lines: "room events". */
    String name();

    /** Deletes at most {@code limit} rows (or looks at most at that many); answers what it did. */
    Future<Batch> next(SqlClient sql, int limit);
  }

  /**
   * What one batch did: rows deleted, old rows kept because something still needs them (a pending
   * delivery), and whether more may be left.
   */
  public record Batch(long purged, long kept, boolean more) {
  }

  /** What a pass did, per kind of row in the order they ran; {@code ran} is false when another node or pass held the lock. */
  public record Summary(boolean ran, Map<String, Long> purged, Map<String, Long> kept, Duration took) {
    public long purged(String name) {
      return purged.getOrDefault(name, 0L);
    }

    public long kept(String name) {
      return kept.getOrDefault(name, 0L);
    }
  }

  /**
   * Rows that one statement deletes: {@code sql} takes {@code params} and then the batch size, and
   * deletes at most that many rows; more may be left when it deleted that many.
   */
  public static Rows byStatement(String name, String sql, Object... params) {
    return new Rows() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Future<Batch> next(SqlClient client, int limit) {
        List<Object> all = new ArrayList<>(List.of(params));
        all.add(limit);
        return client.preparedQuery(sql).execute(Tuple.tuple(all)).map(RowSet::rowCount)
            .map(deleted -> new Batch(deleted, 0, deleted >= limit));
      }
    };
  }

  /**
   * The answer of a statement that walks rows in order from a cursor, {@code read} of them, deletes
   * those {@code old} enough that nothing holds ({@code purged}), and names the last one it read
   * ({@code last}, null when none): the walk goes on while every row it read was old.
   */
  public record Walk(long read, long old, Long last, long purged) {
    public static Walk of(RowSet<Row> rows) {
      Row row = rows.iterator().next();
      return new Walk(row.getLong("read"), row.getLong("old"), row.getLong("last"), row.getLong("purged"));
    }

    public boolean more(int limit) {
      return read >= limit && old == read;
    }

    public Batch batch(int limit) {
      return new Batch(purged, old - purged, more(limit));
    }
  }

  private final Vertx vertx;
  private final Supplier<Future<SqlConnection>> connect;
  private final int batchSize;
  private final Duration pause;
  private final AtomicBoolean running = new AtomicBoolean();
  private volatile boolean stopped;

  /** {@code connect} opens the pass's own connection; it is closed at the end of the pass. */
  public Purge(Vertx vertx, Supplier<Future<SqlConnection>> connect, int batchSize, Duration pause) {
    this.vertx = vertx;
    this.connect = connect;
    this.batchSize = batchSize;
    this.pause = pause;
  }

  /** Runs a pass over {@code kinds}, in order, unless one runs already here or on another node. */
  public Future<Summary> run(List<Rows> kinds) {
    if (stopped || !running.compareAndSet(false, true)) {
      return Future.succeededFuture(new Summary(false, Map.of(), Map.of(), Duration.ZERO));
    }
    long started = System.nanoTime();
    Tally tally = new Tally(started);
    return connect.get().compose(conn -> conn.query(TRY_LOCK).execute()
            .compose(locked -> locked.iterator().next().getBoolean(0) ? kinds(conn, kinds, 0, tally).map(true) : Future.succeededFuture(false))
            .eventually(conn::close))
        .map(ran -> {
          Summary summary = new Summary(ran, Collections.unmodifiableMap(tally.purged), Collections.unmodifiableMap(tally.kept),
              Duration.ofNanos(System.nanoTime() - started));
          report(summary);
          return summary;
        })
        .onFailure(err -> log.warn("retention: the purge pass stopped ({}); the next pass goes on", err.getMessage()))
        .onComplete(done -> running.set(false));
  }

  /** No pass starts from now on, and one running stops after its batch. */
  public void stop() {
    stopped = true;
  }

  /** Counts of a pass, kept in the order the kinds ran. */
  private static final class Tally {
    final Map<String, Long> purged = new LinkedHashMap<>();
    final Map<String, Long> kept = new LinkedHashMap<>();
    long lastProgress;

    Tally(long started) {
      this.lastProgress = started;
    }
  }

  private Future<Void> kinds(SqlConnection conn, List<Rows> kinds, int index, Tally tally) {
    if (index == kinds.size() || stopped) {
      return Future.succeededFuture();
    }
    return batches(conn, kinds.get(index), tally).compose(v -> kinds(conn, kinds, index + 1, tally));
  }

  private Future<Void> batches(SqlConnection conn, Rows rows, Tally tally) {
    return rows.next(conn, batchSize).compose(batch -> {
      tally.purged.merge(rows.name(), batch.purged(), Long::sum);
      tally.kept.merge(rows.name(), batch.kept(), Long::sum);
      long now = System.nanoTime();
      if (now - tally.lastProgress >= PROGRESS_EVERY_NANOS) {
        tally.lastProgress = now;
        log.info("retention: purging {}, {} so far in this pass", rows.name(), tally.purged.get(rows.name()));
      }
      if (!batch.more() || stopped) {
        return Future.succeededFuture();
      }
      Future<Void> paused = pause.isZero() ? Future.succeededFuture() : vertx.timer(pause.toMillis());
      return paused.compose(v -> batches(conn, rows, tally));
    });
  }

  private static void report(Summary summary) {
    if (!summary.ran()) {
      log.debug("retention: another node is purging; this node skips the pass");
      return;
    }
    List<String> parts = new ArrayList<>();
    summary.purged().forEach((name, purged) -> {
      long kept = summary.kept(name);
      parts.add(purged + " " + name + (kept > 0 ? " (" + kept + " old ones kept for pending deliveries)" : ""));
    });
    boolean any = summary.purged().values().stream().anyMatch(n -> n > 0) || summary.kept().values().stream().anyMatch(n -> n > 0);
    String line = "retention: purged " + String.join(", ", parts) + " in " + summary.took().toMillis() + " ms";
    if (any) {
      log.info(line);
    } else {
      log.debug(line);
    }
  }
}
