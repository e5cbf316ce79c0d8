package com.scairelay.transport;

import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
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

  /**
   * Sets up a new bridge: its settings and its platform credentials (stored encrypted, never shown),
   * validated, with the platform asked when it can tell (Slack's {@code auth.test}). Fails with a 400
   * {@link ProblemException} naming the field that is wrong. The default keeps {@link #bridgeConfig}'s
   * settings and stores no credentials.
   */
  default Future<BridgeSetup> setUpBridge(JsonObject request, boolean sendsOutbound, boolean acceptsInbound, HttpSender sender) {
    try {
      return Future.succeededFuture(new BridgeSetup(bridgeConfig(request, sendsOutbound), new JsonObject()));
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
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

  /**
   * Sends {@code batch} (one delivery, or several of one sender {@link #coalesce} allowed) and reads the
   * answer; never fails, a failure is a result. The default renders the one delivery and sends it. A
   * connector that paces, splits long messages or calls other endpoints (edits) overrides this.
   */
  default Future<TransportResult> send(List<Delivery> batch, HttpSender sender) {
    return sender.send(render(batch.get(0)), this);
  }

  /**
   * How many of the deliveries at the head of a target's queue to send as one ({@code ready} holds at
   * least two, in order): 1, the default, sends one at a time. A paced platform joins a backlog of one
   * sender's messages into one post rather than fall ever further behind.
   */
  default int coalesce(List<Delivery> ready) {
    return 1;
  }

  /** True when {@link #coalesce} may answer more than 1 (the actor asks only then). */
  default boolean coalesces() {
    return false;
  }

  /** How the platform posts into a bridge, if it does over HTTP. */
  default Optional<InboundAdapter> inbound() {
    return Optional.empty();
  }

  /**
   * A connector whose platform delivers over a connection the node opens (Discord's Gateway) starts
   * listening here, once the node is up; it hands what it hears to {@code listening}'s sink.
   */
  default Future<Void> startListening(Listening listening) {
    return Future.succeededFuture();
  }

  /** Closes what {@link #startListening} opened. */
  default Future<Void> stopListening() {
    return Future.succeededFuture();
  }

  /** A new bridge's settings (shown in the admin API) and credentials (encrypted at rest, never shown). */
  record BridgeSetup(JsonObject config, JsonObject credentials) {
  }
}
