package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import com.scairelay.support.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RetryAfterTest {
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));
  final CustomTransport transport = new CustomTransport(RelayConfig.load(Map.of()).outbound(), new OutboundGuard(true, true), clock);

  @Test
  void readsSecondsAndHttpDates() {
    assertThat(transport.retryAfterMs("30")).isEqualTo(30_000L);
    assertThat(transport.retryAfterMs("Mon, 23 Nov 2026 10:01:30 GMT")).isEqualTo(90_000L);
    assertThat(transport.retryAfterMs("Mon, 23 Nov 2026 09:00:00 GMT")).isEqualTo(0L);
    assertThat(transport.retryAfterMs("soon")).isNull();
    assertThat(transport.retryAfterMs(null)).isNull();
  }
}
