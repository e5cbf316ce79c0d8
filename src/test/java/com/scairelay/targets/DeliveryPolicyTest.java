package com.scairelay.targets;

import com.scairelay.config.RelayConfig;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DeliveryPolicyTest {
  final RelayConfig.Delivery settings = RelayConfig.load(Map.of()).delivery();
  final DeliveryPolicy policy = new DeliveryPolicy(settings);
  final Instant now = Instant.parse("2026-11-23T10:00:00Z");

  static TransportResult answer(Outcome outcome, Integer status, Long retryAfterMs) {
    return new TransportResult(outcome, status, retryAfterMs, null, 5);
  }

  @Test
  void backoffStartsAtAboutOneSecondDoublesWithJitterAndIsCapped() {
    for (int i = 0; i < 200; i++) {
      assertThat(policy.backoff(1)).isBetween(Duration.ofMillis(800), Duration.ofMillis(1200));
      assertThat(policy.backoff(2)).isBetween(Duration.ofMillis(1600), Duration.ofMillis(2400));
      assertThat(policy.backoff(5)).isBetween(Duration.ofMillis(12_800), Duration.ofMillis(19_200));
      assertThat(policy.backoff(30)).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(6));
    }
  }

  @Test
  void transientFailuresRetryUntilTheWindowEndsThenFailAsUnreachable() {
    Instant firstFailed = now.minus(Duration.ofMinutes(59).plusSeconds(58));
    Decision last = policy.decide(answer(Outcome.TRANSIENT, 503, null), 20, 0, firstFailed, now);
    assertThat(last.kind()).isEqualTo(Decision.Kind.RETRY);
    assertThat(last.nextAttemptAt()).isEqualTo(firstFailed.plus(Duration.ofHours(1)));

    Decision end = policy.decide(answer(Outcome.TRANSIENT, 503, null), 21, 0, firstFailed, firstFailed.plus(Duration.ofHours(1)));
    assertThat(end.kind()).isEqualTo(Decision.Kind.FAILED);
    assertThat(end.unreachable()).isTrue();
  }

  @Test
  void rateLimitsHonourRetryAfterThreeTimes() {
    Decision wait = policy.decide(answer(Outcome.RATE_LIMITED, 429, 7_000L), 1, 0, null, now);
    assertThat(wait.nextAttemptAt()).isEqualTo(now.plusSeconds(7));
    assertThat(policy.decide(answer(Outcome.RATE_LIMITED, 429, 7_000L), 3, 2, null, now).kind()).isEqualTo(Decision.Kind.RETRY);
    Decision done = policy.decide(answer(Outcome.RATE_LIMITED, 429, 7_000L), 4, 3, null, now);
    assertThat(done.kind()).isEqualTo(Decision.Kind.FAILED);
    assertThat(done.unreachable()).isFalse();
  }

  @Test
  void deliveredAndPermanentAreFinal() {
    assertThat(policy.decide(answer(Outcome.DELIVERED, 204, null), 1, 0, null, now).kind()).isEqualTo(Decision.Kind.DELIVERED);
    Decision permanent = policy.decide(answer(Outcome.PERMANENT, 410, null), 1, 0, null, now);
    assertThat(permanent.kind()).isEqualTo(Decision.Kind.FAILED);
    assertThat(permanent.reason()).contains("HTTP 410");
  }
}
