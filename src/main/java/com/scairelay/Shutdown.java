package com.scairelay;

import com.scairelay.store.EmbeddedDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stops what a node process started, within {@code shutdown.deadline_seconds}: the node drains
 * ({@link RelayNode#stop}: no new connections, requests answered, deliveries in flight answered and
 * recorded, targets and lease released, pools closed), Vert.x closes (leaving the cluster), and the
 * embedded PostgreSQL stops, that one whatever happened before, so nothing is left running.
 *
 * <p>As a shutdown hook it decides the exit code: a JVM stopped by SIGTERM would exit 143, so once the
 * stop is done the hook halts with 0, or with the code the process was asked to end with ({@link #exit}); with 1, and a
 * line saying what was still running, when the deadline passed.
 */
final class Shutdown {
  private static final Logger log = LoggerFactory.getLogger(Shutdown.class);
  static final int PAST_DEADLINE = 1;
  /** What the process was asked to exit with ({@link #exit}); 0 when a signal stops it. */
  private static volatile int status;

  private final Duration deadline;
  private final AtomicReference<Vertx> vertx = new AtomicReference<>();
  private final AtomicReference<RelayNode> node = new AtomicReference<>();
  private final AtomicReference<EmbeddedDatabase> database = new AtomicReference<>();
  private boolean done;

  Shutdown(Duration deadline) {
    this.deadline = deadline;
  }

  /** Runs {@link #stop} when the JVM is told to stop (SIGTERM, Ctrl-C, {@link #exit}) and ends it with the right code. */
  Shutdown hook() {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      boolean finished = stop();
      Runtime.getRuntime().halt(status != 0 ? status : finished ? 0 : PAST_DEADLINE);
    }, "scairelay-shutdown"));
    return this;
  }

  void vertx(Vertx started) {
    vertx.set(started);
  }

  void node(RelayNode started) {
    node.set(started);
  }

  /** The embedded PostgreSQL, again each time dev mode starts it anew. */
  AtomicReference<EmbeddedDatabase> database() {
    return database;
  }

  /** Ends the process with {@code code}, after the stop if a hook is registered: every exit of the node goes through here. */
  static void exit(int code) {
    status = code;
    System.exit(code);
  }

  /** Stops everything that was started; false when the deadline passed first. Only the first call does anything. */
  synchronized boolean stop() {
    if (done) {
      return true;
    }
    done = true;
    long started = System.nanoTime();
    long end = started + deadline.toNanos();
    RelayNode relay = node.get();
    if (relay != null) {
      log.info("ScaiRelay stopping: draining (shutdown.deadline_seconds {})", deadline.toSeconds());
    }
    String unfinished = null;
    if (relay != null && !finished(relay.stop(), end, "stopping the node")) {
      unfinished = relay.stopping();
    }
    Vertx running = vertx.get();
    if (unfinished == null && running != null && !finished(running.close(), end, "closing Vert.x")) {
      unfinished = "closing Vert.x (and leaving the cluster)";
    }
    EmbeddedDatabase db = database.get();
    if (db != null) {
      try {
        db.close();
      } catch (IOException | RuntimeException e) {
        log.warn("stopping the embedded PostgreSQL: {}", e.getMessage());
      }
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    if (unfinished != null) {
      String line = "the stop did not finish within " + deadline.toSeconds() + " s (shutdown.deadline_seconds, env RELAY_SHUTDOWN_DEADLINE_SECONDS):"
          + " still waiting for " + unfinished + "; exiting with code " + PAST_DEADLINE;
      log.error(line);
      System.err.println("scairelay: " + line);
      return false;
    }
    if (relay != null) {
      log.info("ScaiRelay stopped in {} ms", ms);
    }
    return true;
  }

  /** Whether {@code step} ended before {@code end}; one that failed has ended too (and is logged). */
  private static boolean finished(Future<?> step, long end, String what) {
    try {
      step.await(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (Exception e) {
      log.warn("{}: {}", what, e.toString());
      return true;
    }
  }
}
