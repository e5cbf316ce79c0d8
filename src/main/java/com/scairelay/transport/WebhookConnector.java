package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Webhook subscriptions (DESIGN.md §3): the audit event as the body, {@code X-ScaiDrive-Event} (the
 * action), {@code X-ScaiDrive-Signature} (hex HMAC-SHA256 of the body with the subscription's secret),
 * {@code X-ScaiDrive-Delivery-Id}, and the subscription's custom headers, POSTed to its {@code url}. A
 * custom {@code Content-Type} replaces {@code application/json} (the {@link HttpSender} sets that one
 * only when none is given); the body and the bytes signed stay the UTF-8 JSON either way.
 */
final class WebhookConnector implements Connector {
  static final String NAME = "webhook";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TransportRequest render(Delivery delivery) {
    String body = delivery.payload().encode();
    JsonObject headers = delivery.config().getJsonObject("headers", new JsonObject()).copy()
        .put("X-ScaiDrive-Event", delivery.payload().getString("action"))
        .put("X-ScaiDrive-Signature", HexFormat.of().formatHex(Hmac.sha256(delivery.secret(), body.getBytes(StandardCharsets.UTF_8))))
        .put("X-ScaiDrive-Delivery-Id", "dlv_" + delivery.id());
    return new TransportRequest(delivery.id(), delivery.config().getString("url"), headers, body);
  }
}
