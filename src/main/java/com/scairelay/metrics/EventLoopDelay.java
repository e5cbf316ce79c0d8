package com.scairelay.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code relay_event_loop_delay_seconds{loop}}: on each event loop of the node, a task due every
 * 100 ms records how late it ran. A loop busy with long work (or blocked) runs it late by that much;
 * an idle loop runs it within microseconds. Vert.x has no such meter of its own: its blocked-thread
 * checker only logs. The loops are Netty's, which Vert.x exposes in its internal API only.
 */
final class EventLoopDelay {
  private static final long INTERVAL_MS = 100;
  private static final Duration[] BUCKETS = {Duration.ofNanos(250_000), Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(1_000)};

  private volatile boolean stopped;

  private EventLoopDelay() {
  }

  static EventLoopDelay start(Vertx vertx, MeterRegistry registry) {
    EventLoopDelay delay = new EventLoopDelay();
    int index = 0;
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      Timer timer = Timer.builder("relay.event.loop.delay")
          .description("How late a task due every 100 ms ran on this event loop")
          .tag("loop", Integer.toString(index++))
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
      delay.probe(loop, timer);
    }
    return delay;
  }

  private void probe(EventExecutor loop, Timer timer) {
    if (stopped) {
      return;
    }
    long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS);
    try {
      loop.schedule(() -> {
        timer.record(Math.max(0, System.nanoTime() - due), TimeUnit.NANOSECONDS);
        probe(loop, timer);
      }, INTERVAL_MS, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closing) {
      // Vert.x is closing: its loops take no more tasks.
    }
  }

  void stop() {
    stopped = true;
  }
}
