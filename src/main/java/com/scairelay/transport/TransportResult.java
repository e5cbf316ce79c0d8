package com.scairelay.transport;

/**
 * A transport's answer: the outcome, the HTTP status (null without one), what went wrong, how long it
 * took, and the id the foreign side gave the message it created (threads, edits and echo suppression).
 */
public record TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs, String foreignId) {

  public TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs) {
    this(outcome, statusCode, retryAfterMs, error, latencyMs, null);
  }

  /** A result for a request that never got an HTTP answer. */
  public static TransportResult failed(Outcome outcome, String error, long latencyMs) {
    return new TransportResult(outcome, null, null, error, latencyMs);
  }

  public String describe() {
    return statusCode != null ? "HTTP " + statusCode + (error == null ? "" : " " + error) : String.valueOf(error);
  }
}
