package com.scairelay.transport;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The bridge signature, Stripe's scheme: header {@code t=<unix seconds>,v1=<hex>[,v1=<hex>…]} where
 * {@code hex = HMAC-SHA256(shared_secret, "<t>.<raw body>")}. Any {@code v1} made with any of the
 * bridge's valid secrets passes; signatures are compared in constant time.
 */
public final class SignatureScheme {
  public static final String HEADER = "X-ScaiWave-Bridge-Signature";

  private static final HexFormat HEX = HexFormat.of();

  private SignatureScheme() {
  }

  /** The header value for {@code body} signed at {@code timestamp} with {@code secret}. */
  public static String header(String secret, long timestamp, Buffer body) {
    return "t=" + timestamp + ",v1=" + HEX.formatHex(hmac(secret, timestamp, body));
  }

  /** Empty when the header verifies with one of {@code secrets}; otherwise why it does not. */
  public static Optional<String> verify(String header, Buffer body, List<String> secrets, Instant now, Duration tolerance) {
    if (header == null || header.isBlank()) {
      return Optional.of("the " + HEADER + " header is missing");
    }
    Long timestamp = null;
    List<byte[]> signatures = new ArrayList<>();
    for (String part : header.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        return Optional.of("the " + HEADER + " header is malformed: expected t=<unix seconds>,v1=<hex>");
      }
      String key = part.substring(0, eq).trim();
      String value = part.substring(eq + 1).trim();
      if (key.equals("t")) {
        if (timestamp != null || !value.matches("\\d{1,12}")) {
          return Optional.of("the " + HEADER + " header has a missing, repeated or non-numeric t=");
        }
        timestamp = Long.parseLong(value);
      } else if (key.equals("v1") && value.matches("[0-9a-fA-F]{64}")) {
        signatures.add(HEX.parseHex(value));
      }
    }
    if (timestamp == null || signatures.isEmpty()) {
      return Optional.of("the " + HEADER + " header needs t=<unix seconds> and at least one v1=<64 hex digits>");
    }
    if (Math.abs(now.getEpochSecond() - timestamp) > tolerance.toSeconds()) {
      return Optional.of("the signature timestamp is more than " + tolerance.toSeconds() + " s away from the node's clock");
    }
    for (String secret : secrets) {
      byte[] expected = hmac(secret, timestamp, body);
      for (byte[] presented : signatures) {
        if (MessageDigest.isEqual(expected, presented)) {
          return Optional.empty();
        }
      }
    }
    return Optional.of("no v1 signature matches the body with the bridge's shared secret");
  }

  private static byte[] hmac(String secret, long timestamp, Buffer body) {
    return Hmac.sha256(secret, (timestamp + ".").getBytes(StandardCharsets.US_ASCII), body.getBytes());
  }
}
