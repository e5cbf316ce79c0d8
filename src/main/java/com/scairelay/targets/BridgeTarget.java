package com.scairelay.targets;

import com.scairelay.bridges.Bridge;
import com.scairelay.transport.SignatureScheme;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** The outbound side of a bridge: signed like inbound webhooks, retried by {@link DeliveryPolicy}. */
record BridgeTarget(Bridge bridge, DeliveryPolicy policy) implements Target {

  @Override
  public String id() {
    return bridge.id();
  }

  @Override
  public String kind() {
    return BRIDGE;
  }

  @Override
  public boolean sending() {
    return !bridge.paused() && bridge.direction().sendsOutbound();
  }

  @Override
  public int maxInFlight() {
    return bridge.maxInFlight();
  }

  @Override
  public String transport() {
    return bridge.transport();
  }

  @Override
  public TransportRequest request(Claimed delivery, Instant now) {
    String body = delivery.payload().encode();
    JsonObject headers = new JsonObject()
        .put(SignatureScheme.HEADER, SignatureScheme.header(bridge.secret(), now.getEpochSecond(), Buffer.buffer(body)));
    return new TransportRequest(delivery.id(), bridge.config().getString("outbound_webhook"), headers, body);
  }

  @Override
  public Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now) {
    return policy.decide(result, attempts, rateLimited, firstFailedAt, now);
  }
}
