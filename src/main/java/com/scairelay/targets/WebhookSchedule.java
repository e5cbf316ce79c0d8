package com.scairelay.targets;

import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportResult;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The webhook column of DESIGN.md §4: any answer but 2xx waits 30 s, 1 m, 5 m, 15 m, 1 h, 6 h, 24 h
 * before retries 1–7; when the 7th retry fails the delivery is dropped.
 */
final class WebhookSchedule implements Policy {
  static final List<Duration> SCHEDULE = List.of(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
      Duration.ofMinutes(15), Duration.ofHours(1), Duration.ofHours(6), Duration.ofHours(24));

  @Override
  public Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now) {
    if (result.outcome() == Outcome.DELIVERED) {
      return Decision.delivered();
    }
    if (attempts <= SCHEDULE.size()) {
      return Decision.retryAt(now.plus(SCHEDULE.get(attempts - 1)));
    }
    return Decision.failed("dropped after " + SCHEDULE.size() + " retries: " + result.describe(), false);
  }
}
