package com.scairelay.transport;

/** How a transport classifies the foreign side's answer (DESIGN.md §4); what follows is the actor's policy. */
public enum Outcome {
  /** 2xx. */
  DELIVERED,
  /** 429: wait as told ({@code retry_after_ms}) or back off. */
  RATE_LIMITED,
  /** 5xx, timeout, refused or reset connection: the endpoint may come back. */
  TRANSIENT,
  /** Any other 4xx, or an address the node may not reach: trying again will not help. */
  PERMANENT
}
