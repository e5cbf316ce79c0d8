package com.scairelay.targets;

import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;

import java.time.Instant;

/**
 * What a queue actor needs of the thing it delivers to. A bridge and a webhook subscription differ
 * only here: how a delivery is signed and addressed, and which retry policy follows an answer.
 */
interface Target {
  String BRIDGE = "bridge";
  String WEBHOOK = "webhook";

  String id();

  String kind();

  /** False while paused (or when it does not send): the actor then claims nothing. */
  boolean sending();

  int maxInFlight();

  /** The transport verticle to send through. */
  String transport();

  /** The signed request for one delivery, made at send time (signatures carry the time). */
  TransportRequest request(Claimed delivery, Instant now);

  Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now);

  static String kindOf(String targetId) {
    return targetId.startsWith("whk_") ? WEBHOOK : BRIDGE;
  }
}
