package com.scairelay.store;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The clock a node process runs on. */
class TimesTest {
  @Test
  void theNodesClockKeepsMicrosecondsAndAnswersMillis() {
    Clock clock = Times.microsecondClock();
    long before = System.currentTimeMillis();
    long millis = clock.millis();
    Instant instant = clock.instant();
    assertThat(millis).as("millis() works (Clock.tick below 1 ms divides by zero on JDK 17)").isBetween(before, System.currentTimeMillis());
    assertThat(instant.getNano() % 1_000).as("cut to microseconds, as timestamptz keeps them").isZero();
    assertThat(instant.toEpochMilli()).isGreaterThanOrEqualTo(millis);
    assertThat(clock.withZone(java.time.ZoneId.of("Europe/Paris")).millis()).isGreaterThanOrEqualTo(millis);
  }
}
