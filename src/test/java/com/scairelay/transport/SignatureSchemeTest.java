package com.scairelay.transport;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SignatureSchemeTest {
  static final Duration TOLERANCE = Duration.ofSeconds(300);
  static final Instant NOW = Instant.ofEpochSecond(1_700_000_000L);
  static final Buffer BODY = Buffer.buffer("{\"event_id\":\"1\"}");

  @Test
  void headerIsStripesSchemeComputedIndependently() throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String expected = HexFormat.of().formatHex(mac.doFinal("1700000000.{\"event_id\":\"1\"}".getBytes(StandardCharsets.UTF_8)));

    assertThat(SignatureScheme.header("s3cret", 1_700_000_000L, BODY)).isEqualTo("t=1700000000,v1=" + expected);
  }

  @Test
  void verifiesWithAnyValidSecretAndAnyV1() {
    String header = SignatureScheme.header("old", NOW.getEpochSecond(), BODY);
    assertThat(SignatureScheme.verify(header, BODY, List.of("new", "old"), NOW, TOLERANCE)).isEmpty();
    assertThat(SignatureScheme.verify(header + ",v1=" + "f".repeat(64), BODY, List.of("old"), NOW, TOLERANCE)).isEmpty();
    assertThat(SignatureScheme.verify(header.replace("v1=", "v1=" + "a".repeat(64) + ",v1="), BODY, List.of("old"), NOW, TOLERANCE)).isEmpty();
    assertThat(SignatureScheme.verify(header, BODY, List.of("new"), NOW, TOLERANCE)).isPresent();
  }

  @Test
  void refusesMalformedHeadersAndStaleTimestamps() {
    for (String bad : new String[] {null, "", "t=1", "v1=" + "a".repeat(64), "t=x,v1=" + "a".repeat(64), "t=1,t=2,v1=" + "a".repeat(64), "nonsense", "t=1,v1=zz"}) {
      assertThat(SignatureScheme.verify(bad, BODY, List.of("k"), NOW, TOLERANCE)).as(String.valueOf(bad)).isPresent();
    }
    String early = SignatureScheme.header("k", NOW.getEpochSecond() - 301, BODY);
    String late = SignatureScheme.header("k", NOW.getEpochSecond() + 301, BODY);
    String edge = SignatureScheme.header("k", NOW.getEpochSecond() - 300, BODY);
    assertThat(SignatureScheme.verify(early, BODY, List.of("k"), NOW, TOLERANCE)).isPresent();
    assertThat(SignatureScheme.verify(late, BODY, List.of("k"), NOW, TOLERANCE)).isPresent();
    assertThat(SignatureScheme.verify(edge, BODY, List.of("k"), NOW, TOLERANCE)).isEmpty();
  }
}
