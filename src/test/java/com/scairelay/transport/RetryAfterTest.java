package com.scairelay.transport;

import com.scairelay.support.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RetryAfterTest {
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));

  Long retryAfterMs(String header) {
    return HttpAnswer.retryAfterMs(header, clock);
  }

  @Test
  void readsSecondsAndHttpDates() {
    assertThat(retryAfterMs("30")).isEqualTo(30_000L);
    assertThat(retryAfterMs("Mon, 23 Nov 2026 10:01:30 GMT")).isEqualTo(90_000L);
    assertThat(retryAfterMs("Mon, 23 Nov 2026 09:00:00 GMT")).isEqualTo(0L);
    assertThat(retryAfterMs("soon")).isNull();
    assertThat(retryAfterMs(null)).isNull();
  }
}
