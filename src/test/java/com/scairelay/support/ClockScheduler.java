package com.scairelay.support;

import com.scairelay.targets.Scheduler;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The delivery side's timers in a test's {@link MutableClock}: a task fires when the clock is moved to
 * or past its time (or at once when it is already due), on the context that set it. Nothing fires by
 * itself, so a test knows exactly which timers can have run.
 */
public final class ClockScheduler implements Scheduler {
  private record Task(Instant at, Context context, Runnable run) {
  }

  private final MutableClock clock;
  private final Map<Long, Task> tasks = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicInteger running = new AtomicInteger();

  public ClockScheduler(MutableClock clock) {
    this.clock = clock;
    clock.onAdvance(this::fireDue);
  }

  @Override
  public long at(Instant at, Runnable task) {
    long id = ids.incrementAndGet();
    tasks.put(id, new Task(at, Vertx.currentContext(), task));
    if (!at.isAfter(clock.instant())) {
      fireDue();
    }
    return id;
  }

  @Override
  public void cancel(long id) {
    tasks.remove(id);
  }

  /** True when no fired task is still waiting to run. */
  public boolean idle() {
    return running.get() == 0;
  }

  private void fireDue() {
    Instant now = clock.instant();
    tasks.forEach((id, task) -> {
      if (!task.at().isAfter(now) && tasks.remove(id) != null) {
        running.incrementAndGet();
        task.context().runOnContext(v -> {
          try {
            task.run().run();
          } finally {
            running.decrementAndGet();
          }
        });
      }
    });
  }
}
