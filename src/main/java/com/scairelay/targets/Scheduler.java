package com.scairelay.targets;

import io.vertx.core.Vertx;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Timers of the delivery side, set in the node's {@link Clock}: retry times, lease expiries and the
 * sweep. Tests give a scheduler that fires when their clock is moved, so hours pass without sleeping.
 * A task runs on the context that scheduled it.
 */
public interface Scheduler {
  /** Runs {@code task} once {@code at} is reached; answers an id for {@link #cancel}. */
  long at(Instant at, Runnable task);

  void cancel(long id);

  /** Vert.x timers, with delays computed from {@code clock}. */
  static Scheduler of(Vertx vertx, Clock clock) {
    return new Scheduler() {
      @Override
      public long at(Instant at, Runnable task) {
        long delay = Math.max(1, Duration.between(clock.instant(), at).toMillis());
        return vertx.setTimer(delay, id -> task.run());
      }

      @Override
      public void cancel(long id) {
        vertx.cancelTimer(id);
      }
    };
  }
}
