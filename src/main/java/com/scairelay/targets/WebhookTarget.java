package com.scairelay.targets;

import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import com.scairelay.webhooks.Webhook;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * A webhook subscription: the audit event as the body, {@code X-ScaiDrive-*} headers (the signature is
 * the hex HMAC-SHA256 of the body with the current secret), the subscription's custom headers, and the
 * fixed schedule of DESIGN.md §4: any answer but 2xx waits 30 s, 1 m, 5 m, 15 m, 1 h, 6 h, 24 h
 * before retries 1–7; when the 7th retry fails the delivery is dropped.
 */
record WebhookTarget(Webhook webhook) implements Target {
  static final List<Duration> SCHEDULE = List.of(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
      Duration.ofMinutes(15), Duration.ofHours(1), Duration.ofHours(6), Duration.ofHours(24));

  @Override
  public String id() {
    return webhook.id();
  }

  @Override
  public String kind() {
    return WEBHOOK;
  }

  @Override
  public boolean sending() {
    return !webhook.paused();
  }

  @Override
  public int maxInFlight() {
    return 1;
  }

  @Override
  public String transport() {
    return "custom";
  }

  @Override
  public TransportRequest request(Claimed delivery, Instant now) {
    String body = delivery.payload().encode();
    JsonObject headers = webhook.headers().copy()
        .put("X-ScaiDrive-Event", delivery.payload().getString("action"))
        .put("X-ScaiDrive-Signature", sign(webhook.secret(), body))
        .put("X-ScaiDrive-Delivery-Id", "dlv_" + delivery.id());
    return new TransportRequest(delivery.id(), webhook.url(), headers, body);
  }

  @Override
  public Decision decide(TransportResult result, int attempts, int rateLimited, Instant firstFailedAt, Instant now) {
    if (result.outcome() == Outcome.DELIVERED) {
      return Decision.delivered();
    }
    if (attempts <= SCHEDULE.size()) {
      return Decision.retryAt(now.plus(SCHEDULE.get(attempts - 1)));
    }
    return Decision.failed("dropped after " + SCHEDULE.size() + " retries: " + result.describe(), false);
  }

  static String sign(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
