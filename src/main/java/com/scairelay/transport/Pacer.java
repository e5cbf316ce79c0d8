package com.scairelay.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Spaces requests to one key (a Slack channel, a Teams webhook, a Discord rate-limit bucket) so a
 * platform's documented rate is never exceeded: each caller reserves the next free slot and waits for
 * it on a timer, nothing is dropped. A key told to wait ({@link #holdUntil}, from a platform's own
 * rate-limit headers) has no slot before then. Safe to share between event loops.
 */
public final class Pacer {
  private final long intervalMs;
  private final ConcurrentHashMap<String, Long> nextFreeAt = new ConcurrentHashMap<>();

  /** {@code intervalMs} between two requests to one key; 0 paces nothing but {@link #holdUntil}. */
  public Pacer(long intervalMs) {
    this.intervalMs = intervalMs;
  }

  /** Completes when a request to {@code key} may go, answering how long it waited (ms). */
  public Future<Long> acquire(Vertx vertx, Clock clock, String key) {
    long now = clock.millis();
    long slot = nextFreeAt.compute(key, (k, free) -> Math.max(now, free == null ? now : free) + intervalMs) - intervalMs;
    long waitMs = slot - now;
    if (waitMs <= 0) {
      return Future.succeededFuture(0L);
    }
    Promise<Long> ready = Promise.promise();
    vertx.setTimer(waitMs, id -> ready.complete(waitMs));
    return ready.future();
  }

  /** No request to {@code key} goes before {@code epochMs} (a bucket is empty until it resets). */
  public void holdUntil(String key, long epochMs) {
    nextFreeAt.merge(key, epochMs, Math::max);
  }

  /** How long a request to {@code key} made now would wait (ms). */
  public long waitMs(String key, Clock clock) {
    Long free = nextFreeAt.get(key);
    return free == null ? 0 : Math.max(0, free - clock.millis());
  }
}
