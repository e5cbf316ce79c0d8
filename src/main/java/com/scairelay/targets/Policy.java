package com.scairelay.targets;

import com.scairelay.config.RelayConfig;
import com.scairelay.transport.TransportResult;

import java.time.Instant;

/** What follows an attempt: DESIGN.md §4 has one column per target kind. */
public interface Policy {
  /**
   * @param attempts      attempts made, this one included
   * @param rateLimited   429 answers before this one
   * @param firstFailedAt when this delivery (or its target's current outage) first failed, this attempt included
   */
  Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now);

  /** The bridge column: backoff with jitter within a retry window, Retry-After for 429, other 4xx final. */
  static Policy backoff(RelayConfig.Delivery settings) {
    return new DeliveryPolicy(settings);
  }

  /** The webhook column: the fixed schedule 30 s … 24 h whatever the answer, then dropped. */
  static Policy webhookSchedule() {
    return new WebhookSchedule();
  }
}
