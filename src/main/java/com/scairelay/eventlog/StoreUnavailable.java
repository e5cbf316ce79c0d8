package com.scairelay.eventlog;

/** The event could not be stored now (too much waiting, or the batch failed); nothing was kept, the caller may retry. */
public final class StoreUnavailable extends RuntimeException {
  private final int retryAfterSeconds;

  StoreUnavailable(String detail, int retryAfterSeconds) {
    super(detail, null, false, false);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
