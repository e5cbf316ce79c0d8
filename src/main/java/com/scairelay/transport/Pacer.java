package com.scairelay.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Spaces requests to one key (a Slack channel, a Teams webhook, a Discord rate-limit bucket) so a
 * platform's documented rate is never exceeded: each caller reserves the next free slot and waits for
 * it on a timer, nothing is dropped. A key told to wait ({@link #holdFor}, from a platform's own
 * rate-limit headers) has no slot before then; {@link #run} also counts the interval from each answer.
 * Time is the machine's monotonic clock, as the timers'
 * (a node's injectable clock may stand still in a test; a platform's limit does not). Safe to share
 * between event loops.
 */
public final class Pacer {
  private final long intervalNanos;
  private final ConcurrentHashMap<String, Long> nextFreeAt = new ConcurrentHashMap<>();

  /** {@code intervalMs} between two requests to one key; 0 paces nothing but {@link #holdFor}. */
  public Pacer(long intervalMs) {
    this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
  }

  /**
   * Completes when a request to {@code key} may go, answering how long it waited (ms). The slot is
   * reserved now; should the timer fire late, the next slot moves on with it, so two requests never
   * leave closer together than the interval.
   */
  public Future<Long> acquire(Vertx vertx, String key) {
    long now = System.nanoTime();
    long slot = nextFreeAt.compute(key, (k, free) -> (free == null || free - now < 0 ? now : free) + intervalNanos) - intervalNanos;
    long waitMs = (slot - now + 999_999) / 1_000_000;
    if (waitMs <= 0) {
      return Future.succeededFuture(0L);
    }
    Promise<Long> ready = Promise.promise();
    vertx.setTimer(waitMs, id -> {
      long fired = System.nanoTime();
      nextFreeAt.merge(key, fired + intervalNanos, (a, b) -> a - b < 0 ? b : a);
      ready.complete(TimeUnit.NANOSECONDS.toMillis(fired - now));
    });
    return ready.future();
  }

  /**
   * Runs {@code call} (told how long it waited, ms) in {@code key}'s next slot, and counts the interval
   * from its answer: the platform may have received the request as late as it answered, so only then
   * is the next one sure to arrive at least the interval later. One request at a time per key thus goes
   * out every interval plus one round trip.
   */
  public <T> Future<T> run(Vertx vertx, String key, java.util.function.Function<Long, Future<T>> call) {
    return acquire(vertx, key).compose(waited -> call.apply(waited).andThen(done -> {
      long answered = System.nanoTime();
      nextFreeAt.merge(key, answered + intervalNanos, (a, b) -> a - b < 0 ? b : a);
    }));
  }

  /** No request to {@code key} goes in the next {@code ms} (a bucket is empty until it resets, a 429 said wait). */
  public void holdFor(String key, long ms) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, ms));
    nextFreeAt.merge(key, until, (a, b) -> a - b < 0 ? b : a);
  }

  /** How long a request to {@code key} made now would wait (ms). */
  public long waitMs(String key) {
    Long free = nextFreeAt.get(key);
    return free == null ? 0 : Math.max(0, TimeUnit.NANOSECONDS.toMillis(free - System.nanoTime()));
  }
}
