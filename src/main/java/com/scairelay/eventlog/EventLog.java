package com.scairelay.eventlog;

import com.scairelay.ingress.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Group commit for room events. Appends that arrive within a short window (or until a batch is full)
 * are written in one transaction by {@link BatchWriter}; each append's future completes only after
 * its batch committed. New events are then published on {@code relay.room.<room id>}.
 *
 * <p>One instance per event loop: it is used only from the verticle that created it.
 */
public final class EventLog {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  /** Counts shared by every event loop of the node. */
  public static final class Stats {
    public final LongAdder batches = new LongAdder();
    public final LongAdder events = new LongAdder();
  }

  /** Where the node's delivery side hears that a target has new deliveries (body: the target id). */
  public static final String TARGET_WAKE_ADDRESS = "relay.targets.wake";

  public static String roomAddress(String roomId) {
    return "relay.room." + roomId;
  }

  private final Vertx vertx;
  private final BatchWriter writer;
  private final Clock clock;
  private final Stats stats;
  private final int maxBatch;
  private final long windowMs;
  private final int maxPending;
  private final int maxInFlight;
  private final ArrayDeque<BatchWriter.Item> pending = new ArrayDeque<>();
  private boolean flushScheduled;
  private int inFlight;

  public EventLog(Vertx vertx, Pool pool, Clock clock, Stats stats, Duration dedupeWindow, int maxBatch, int windowMs, int maxPending,
                  int maxInFlight) {
    this.vertx = vertx;
    this.writer = new BatchWriter(pool, dedupeWindow);
    this.clock = clock;
    this.stats = stats;
    this.maxBatch = maxBatch;
    this.windowMs = windowMs;
    this.maxPending = maxPending;
    this.maxInFlight = maxInFlight;
  }

  public Future<Appended> append(EventWrite write) {
    if (pending.size() >= maxPending) {
      return Future.failedFuture(new ProblemException(503, "Service Unavailable",
          "the node has " + pending.size() + " events waiting to be stored; try again shortly", Map.of("Retry-After", "1")));
    }
    Promise<Appended> promise = Promise.promise();
    pending.add(new BatchWriter.Item(write, promise));
    if (inFlight >= maxInFlight) {
      return promise.future();
    }
    if (pending.size() >= maxBatch) {
      flush();
    } else if (!flushScheduled) {
      flushScheduled = true;
      if (windowMs == 0) {
        vertx.runOnContext(v -> flush());
      } else {
        vertx.setTimer(windowMs, id -> flush());
      }
    }
    return promise.future();
  }

  /**
   * Writes what is pending, at most {@code maxInFlight} batches at a time: while batches are being
   * committed, new appends wait and form the next, larger batch (group commit), so under load each
   * commit carries more events instead of more commits queueing for the same rows.
   */
  private void flush() {
    flushScheduled = false;
    while (!pending.isEmpty() && inFlight < maxInFlight) {
      List<BatchWriter.Item> batch = new ArrayList<>(Math.min(maxBatch, pending.size()));
      while (batch.size() < maxBatch && !pending.isEmpty()) {
        batch.add(pending.poll());
      }
      writeBatch(batch);
    }
  }

  private void writeBatch(List<BatchWriter.Item> batch) {
    stats.batches.increment();
    inFlight++;
    writer.write(batch, clock.instant())
        .onSuccess(written -> {
          stats.events.add(written.events().size());
          for (BatchWriter.Item item : batch) {
            item.promise.tryComplete(new Appended(item.eventId(), !item.stored));
          }
          for (StoredEvent event : written.events()) {
            vertx.eventBus().publish(roomAddress(event.roomId()), event.toJson().encode());
          }
          written.targets().forEach(target -> vertx.eventBus().send(TARGET_WAKE_ADDRESS, target));
        })
        .onFailure(err -> {
          log.error("a batch of {} events could not be stored; every request in it is answered 503", batch.size(), err);
          ProblemException problem = new ProblemException(503, "Service Unavailable",
              "the event could not be stored; nothing was kept, try again", Map.of("Retry-After", "1"));
          batch.forEach(item -> item.promise.tryFail(problem));
        })
        .onComplete(ar -> {
          inFlight--;
          flush();
        });
  }
}
