package com.scairelay.transport.slack;

import com.scairelay.transport.Hmac;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Slack's request signature: {@code X-Slack-Signature: v0=<hex>} where {@code hex =
 * HMAC-SHA256(signing secret, "v0:<X-Slack-Request-Timestamp>:<raw body>")}, the timestamp within the
 * tolerance of the node's clock, compared in constant time. The HMAC is {@link Hmac}'s.
 */
final class SlackSignature {
  static final String SIGNATURE = "X-Slack-Signature";
  static final String TIMESTAMP = "X-Slack-Request-Timestamp";

  private static final HexFormat HEX = HexFormat.of();

  private SlackSignature() {
  }

  /** Empty when the request is signed with {@code secret} within {@code tolerance} of {@code now}; otherwise what is wrong. */
  static Optional<String> verify(MultiMap headers, Buffer body, String secret, Instant now, Duration tolerance) {
    if (secret == null || secret.isEmpty()) {
      return Optional.of("the bridge has no Slack signing secret");
    }
    String timestamp = headers.get(TIMESTAMP);
    String signature = headers.get(SIGNATURE);
    if (timestamp == null || timestamp.isBlank()) {
      return Optional.of("the " + TIMESTAMP + " header is missing");
    }
    if (signature == null || signature.isBlank()) {
      return Optional.of("the " + SIGNATURE + " header is missing");
    }
    if (!timestamp.trim().matches("\\d{1,12}")) {
      return Optional.of("the " + TIMESTAMP + " header is not a number of seconds");
    }
    long seconds = Long.parseLong(timestamp.trim());
    if (Math.abs(now.getEpochSecond() - seconds) > tolerance.toSeconds()) {
      return Optional.of("the " + TIMESTAMP + " is more than " + tolerance.toSeconds() + " s away from the node's clock");
    }
    String presented = signature.trim();
    if (!presented.matches("v0=[0-9a-fA-F]{64}")) {
      return Optional.of("the " + SIGNATURE + " header is malformed: expected v0=<64 hex digits>");
    }
    byte[] expected = sign(secret, timestamp.trim(), body);
    if (!MessageDigest.isEqual(expected, HEX.parseHex(presented.substring(3)))) {
      return Optional.of("the " + SIGNATURE + " does not match the body with the bridge's Slack signing secret");
    }
    return Optional.empty();
  }

  private static byte[] sign(String secret, String timestamp, Buffer body) {
    return Hmac.sha256(secret, ("v0:" + timestamp + ":").getBytes(StandardCharsets.US_ASCII), body.getBytes());
  }
}
