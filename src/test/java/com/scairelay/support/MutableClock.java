package com.scairelay.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock the test moves by hand, so windows of minutes pass without sleeping. Whatever listens to it
 * (a {@link ClockScheduler}) hears each move, so timers due by then fire.
 */
public final class MutableClock extends Clock {
  private final AtomicReference<Instant> now;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(start.truncatedTo(ChronoUnit.MICROS));
  }

  public static MutableClock startingNow() {
    return new MutableClock(Instant.now());
  }

  public void advance(Duration duration) {
    now.updateAndGet(t -> t.plus(duration));
    listeners.forEach(Runnable::run);
  }

  public void onAdvance(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
