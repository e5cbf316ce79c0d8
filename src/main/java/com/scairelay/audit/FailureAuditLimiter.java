package com.scairelay.audit;

import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds how many audit events a flood of failures (bad signatures, say) can write: at most
 * {@code perMinute} per key in each clock minute. The first event let through after a window that
 * dropped some carries how many were dropped, so the audit log still accounts for every failure.
 * Thread-safe: every HTTP event loop of the node shares one.
 */
public final class FailureAuditLimiter {
  private final int perMinute;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  private static final class Window {
    long minute;
    int written;
    long suppressed;
  }

  public FailureAuditLimiter(int perMinute) {
    this.perMinute = perMinute;
  }

  /**
   * Empty when this failure must not be written; otherwise the number of failures for this key that
   * were not written since the last one that was.
   */
  public OptionalLong admit(String key, Instant now) {
    long minute = now.getEpochSecond() / 60;
    Window window = windows.computeIfAbsent(key, k -> new Window());
    synchronized (window) {
      if (window.minute != minute) {
        window.minute = minute;
        window.written = 0;
      }
      if (window.written >= perMinute) {
        window.suppressed++;
        return OptionalLong.empty();
      }
      window.written++;
      long suppressed = window.suppressed;
      window.suppressed = 0;
      return OptionalLong.of(suppressed);
    }
  }
}
