package com.scairelay.store;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Instants as the PostgreSQL client binds {@code timestamptz}, and the node's clock at that precision. */
public final class Times {
  private Times() {
  }

  /**
   * The system clock in UTC, its instants cut to microseconds (what {@code timestamptz} keeps, so an
   * instant reads back as it was written). Not {@code Clock.tick(…, 1 µs)}: on JDK 17 a tick below a
   * millisecond makes that clock's {@code millis()} divide by zero.
   */
  public static Clock microsecondClock() {
    return new MicrosecondClock(Clock.systemUTC());
  }

  private static final class MicrosecondClock extends Clock {
    private final Clock base;

    MicrosecondClock(Clock base) {
      this.base = base;
    }

    @Override
    public ZoneId getZone() {
      return base.getZone();
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return new MicrosecondClock(base.withZone(zone));
    }

    @Override
    public Instant instant() {
      return base.instant().truncatedTo(ChronoUnit.MICROS);
    }

    @Override
    public long millis() {
      return base.millis();
    }
  }

  public static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }
}
