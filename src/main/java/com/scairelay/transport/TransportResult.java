package com.scairelay.transport;

/**
 * A transport's answer: the outcome, the HTTP status (null without one), what went wrong, how long it
 * took, the id the foreign side gave the message it created (threads, edits and echo suppression), and
 * whether the platform said the bridge's own settings are broken ({@code broken}: revoked token, channel
 * or webhook gone): then the admin is alerted and the target is not sent to for a while, so a dead
 * bridge is not hammered with requests the platform counts against the node.
 */
public record TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs, String foreignId,
                              boolean broken) {

  public TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs, String foreignId) {
    this(outcome, statusCode, retryAfterMs, error, latencyMs, foreignId, false);
  }

  public TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs) {
    this(outcome, statusCode, retryAfterMs, error, latencyMs, null, false);
  }

  /** A result for a request that never got an HTTP answer. */
  public static TransportResult failed(Outcome outcome, String error, long latencyMs) {
    return new TransportResult(outcome, null, null, error, latencyMs);
  }

  /** A permanent answer saying the bridge's settings no longer work on the platform. */
  public static TransportResult broken(Integer statusCode, String error, long latencyMs) {
    return new TransportResult(Outcome.PERMANENT, statusCode, null, error, latencyMs, null, true);
  }

  /** This result, taking {@code extraMs} more (a paced wait, earlier parts of a split message). */
  public TransportResult plusLatency(long extraMs) {
    return new TransportResult(outcome, statusCode, retryAfterMs, error, latencyMs + extraMs, foreignId, broken);
  }

  public String describe() {
    return statusCode != null ? "HTTP " + statusCode + (error == null ? "" : " " + error) : String.valueOf(error);
  }
}
