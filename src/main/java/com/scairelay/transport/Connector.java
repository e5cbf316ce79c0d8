package com.scairelay.transport;

import com.scairelay.http.ProblemException;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * One platform behind the delivery core, the way mautrix bridgev2 keeps its core ignorant of networks:
 * a connector validates a bridge's settings for its platform, renders and signs a delivery, classifies
 * the platform's answer, and optionally adapts the platform's inbound requests into room events. The
 * HTTP mechanics (DNS, the SSRF check, timeouts, pooling) are {@link HttpSender}'s; retry policy is the
 * queue actor's. Register a connector in {@link Connectors}: nothing else changes to add one.
 */
public interface Connector {
  /** The transport name: what a bridge's {@code transport} field and a target's connector say. */
  String name();

  /**
   * The transport settings to store for a new bridge of this transport, read from the admin request
   * (the fields of DESIGN.md §3 that belong to this platform). Throws a 400 {@link ProblemException}
   * naming the field that is wrong. A connector that serves no bridge (webhook subscriptions) refuses.
   */
  default JsonObject bridgeConfig(JsonObject request, boolean sendsOutbound) {
    throw ProblemException.badRequest("transport '" + name() + "' cannot be used by a bridge");
  }

  /** True when bridges may be created with this transport. */
  default boolean servesBridges() {
    return false;
  }

  /** The request for one delivery, made at send time (signatures carry the time). */
  TransportRequest render(Delivery delivery);

  /** What the foreign side's answer means: the plain HTTP reading unless the platform says more. */
  default TransportResult classify(HttpAnswer answer) {
    return answer.classify(null);
  }

  /** How the platform posts into a bridge, if it does over HTTP. */
  default Optional<InboundAdapter> inbound() {
    return Optional.empty();
  }
}
