package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

/**
 * A transport's answer: the outcome, the HTTP status (null without one), what went wrong, how long it
 * took, and the id the foreign side gave the message it created (threads, edits and echo suppression).
 */
public record TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs, String foreignId) {

  public TransportResult(Outcome outcome, Integer statusCode, Long retryAfterMs, String error, long latencyMs) {
    this(outcome, statusCode, retryAfterMs, error, latencyMs, null);
  }

  public JsonObject toJson() {
    return new JsonObject().put("outcome", outcome.name()).put("status_code", statusCode)
        .put("retry_after_ms", retryAfterMs).put("error", error).put("latency_ms", latencyMs).put("foreign_id", foreignId);
  }

  public static TransportResult fromJson(JsonObject json) {
    return new TransportResult(Outcome.valueOf(json.getString("outcome")), json.getInteger("status_code"),
        json.getLong("retry_after_ms"), json.getString("error"), json.getLong("latency_ms", 0L), json.getString("foreign_id"));
  }

  /** A result for a request that never got an HTTP answer. */
  public static TransportResult failed(Outcome outcome, String error, long latencyMs) {
    return new TransportResult(outcome, null, null, error, latencyMs);
  }

  public String describe() {
    return statusCode != null ? "HTTP " + statusCode + (error == null ? "" : " " + error) : String.valueOf(error);
  }
}
