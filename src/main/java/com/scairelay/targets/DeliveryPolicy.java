package com.scairelay.targets;

import com.scairelay.config.RelayConfig;
import com.scairelay.transport.TransportResult;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The bridge column of DESIGN.md §4. 2xx: delivered. 429: wait {@code Retry-After} (else back off),
 * at most {@code deliveries.rate_limit_retries} times. 5xx, timeout, refused: exponential backoff with
 * jitter from {@code deliveries.backoff_initial_ms}, capped at {@code backoff_max_ms}, for
 * {@code retry_window_seconds} after the first failure, the last try at the end of the window. Any
 * other 4xx: failed at once; when the platform says the bridge's own settings are broken (revoked
 * token, channel or webhook gone), with the admin alert.
 */
final class DeliveryPolicy implements Policy {
  private final RelayConfig.Delivery settings;

  DeliveryPolicy(RelayConfig.Delivery settings) {
    this.settings = settings;
  }

  @Override
  public Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now) {
    return switch (result.outcome()) {
      case DELIVERED -> Decision.delivered();
      case PERMANENT -> result.broken()
          ? Decision.failed("the platform refuses the bridge's settings: " + result.describe(), true)
          : Decision.failed("permanent answer: " + result.describe(), false);
      case RATE_LIMITED -> rateLimited >= settings.rateLimitRetries()
          ? Decision.failed("still rate limited after " + rateLimited + " retries: " + result.describe(), false)
          : Decision.retryAt(now.plus(result.retryAfterMs() != null ? Duration.ofMillis(result.retryAfterMs()) : backoff(attempts)));
      case TRANSIENT -> afterTransientFailure(result, attempts, firstFailedAt, now);
    };
  }

  private Decision afterTransientFailure(TransportResult result, int attempts, Instant firstFailedAt, Instant now) {
    Instant giveUpAt = firstFailedAt.plus(settings.retryWindow());
    if (!now.isBefore(giveUpAt)) {
      return Decision.failed("unreachable for " + settings.retryWindow().toMinutes() + " min: " + result.describe(), true);
    }
    Instant next = now.plus(backoff(attempts));
    return Decision.retryAt(next.isAfter(giveUpAt) ? giveUpAt : next);
  }

  /** The wait after the {@code attempts}-th attempt: initial × 2^(attempts-1), capped, ± jitter. */
  Duration backoff(int attempts) {
    long initial = settings.backoffInitial().toMillis();
    long max = settings.backoffMax().toMillis();
    long exponential = attempts >= 40 ? max : Math.min(max, initial << Math.max(0, attempts - 1));
    double jitter = settings.jitterPercent() / 100.0;
    double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofMillis(Math.max(1, Math.round(exponential * factor)));
  }
}
