package com.scairelay.targets;

import java.time.Instant;

/**
 * What becomes of a delivery after an attempt. {@code DELIVERED} and {@code FAILED} are final;
 * {@code RETRY} waits until {@code nextAttemptAt}. {@code unreachable} marks the failure that ends a
 * retry window of transient errors (an admin alert).
 */
public record Decision(Kind kind, Instant nextAttemptAt, String reason, boolean unreachable) {
  public enum Kind { DELIVERED, RETRY, FAILED }

  public static Decision delivered() {
    return new Decision(Kind.DELIVERED, null, null, false);
  }

  public static Decision retryAt(Instant at) {
    return new Decision(Kind.RETRY, at, null, false);
  }

  public static Decision failed(String reason, boolean unreachable) {
    return new Decision(Kind.FAILED, null, reason, unreachable);
  }

  String status() {
    return switch (kind) {
      case DELIVERED -> "delivered";
      case RETRY -> "pending";
      case FAILED -> "failed";
    };
  }
}
