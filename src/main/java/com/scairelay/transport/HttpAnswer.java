package com.scairelay.transport;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The foreign side's HTTP answer to a delivery, as {@link HttpSender} got it, for a connector to classify. */
public record HttpAnswer(int status, MultiMap headers, Buffer body, long latencyMs, Clock clock) {

  /**
   * The plain HTTP reading of DESIGN.md §4: 2xx delivered, 429 rate limited (with {@code Retry-After}),
   * 5xx transient, any other status permanent; {@code foreignId} is what the platform called the message.
   */
  public TransportResult classify(String foreignId) {
    if (status >= 200 && status < 300) {
      return new TransportResult(Outcome.DELIVERED, status, null, null, latencyMs, foreignId);
    }
    if (status == 429) {
      return new TransportResult(Outcome.RATE_LIMITED, status, retryAfterMs(headers.get("Retry-After"), clock), null, latencyMs);
    }
    Outcome outcome = status >= 500 ? Outcome.TRANSIENT : Outcome.PERMANENT;
    return new TransportResult(outcome, status, null, snippet(), latencyMs);
  }

  /** {@code Retry-After} in seconds or as an HTTP date; null when absent or unreadable. */
  public static Long retryAfterMs(String header, Clock clock) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String value = header.trim();
    if (value.matches("\\d{1,9}")) {
      return Long.parseLong(value) * 1000;
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Math.max(0, at.toEpochMilli() - clock.millis());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private String snippet() {
    if (body == null || body.length() == 0) {
      return null;
    }
    String text = body.toString();
    return text.length() > 200 ? text.substring(0, 200) + "…" : text;
  }
}
