package com.scairelay.transport;

import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Transport {@code custom} (DESIGN.md §3): the foreign side is any HTTP endpoint. Outbound, every
 * event is POSTed to {@code outbound_webhook} signed with {@link SignatureScheme}; inbound, the foreign
 * side POSTs to {@code /v1/bridges/{id}/inbound} signed the same way. An endpoint may answer
 * {@code {"message_id": "..."}}: the id is recorded with the attempt.
 */
final class CustomConnector implements Connector, InboundAdapter {
  static final String NAME = "custom";

  private final OutboundGuard guard;

  CustomConnector(OutboundGuard guard) {
    this.guard = guard;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean servesBridges() {
    return true;
  }

  @Override
  public JsonObject bridgeConfig(JsonObject request, boolean sendsOutbound) {
    JsonObject config = new JsonObject();
    String url = JsonBody.optionalString(request, "outbound_webhook", 2048);
    if (url == null && !sendsOutbound) {
      return config;
    }
    if (url == null || url.isBlank()) {
      throw ProblemException.badRequest("field 'outbound_webhook' is required when the bridge sends outbound");
    }
    guard.refuseConfigured(url).ifPresent(reason -> {
      throw ProblemException.badRequest("field 'outbound_webhook' is refused: " + reason);
    });
    return config.put("outbound_webhook", url);
  }

  @Override
  public TransportRequest render(Delivery delivery) {
    JsonObject event = delivery.payload();
    String body = new JsonObject()
        .put("event_id", event.getString("event_id"))
        .put("sender", new JsonObject().put("fqid", event.getJsonObject("sender").getString("fqid"))
            .put("display_name", event.getJsonObject("sender").getString("display_name")))
        .put("content", event.getValue("content"))
        .put("thread_id", event.getString("thread_id"))
        .put("reply_to", event.getString("reply_to"))
        .put("ts", event.getString("ts"))
        .encode();
    JsonObject headers = new JsonObject()
        .put(SignatureScheme.HEADER, SignatureScheme.header(delivery.secret(), delivery.now().getEpochSecond(), Buffer.buffer(body)));
    return new TransportRequest(delivery.id(), delivery.config().getString("outbound_webhook"), headers, body);
  }

  @Override
  public TransportResult classify(HttpAnswer answer) {
    return answer.classify(messageId(answer.body()));
  }

  @Override
  public Optional<InboundAdapter> inbound() {
    return Optional.of(this);
  }

  @Override
  public String path() {
    return "inbound";
  }

  @Override
  public Optional<String> verify(MultiMap headers, Buffer body, InboundBridge bridge, Instant now, Duration tolerance) {
    return SignatureScheme.verify(headers.get(SignatureScheme.HEADER), body, bridge.sharedSecrets(), now, tolerance);
  }

  @Override
  public Future<Inbound> read(MultiMap headers, Buffer body, InboundBridge bridge, InboundContext context) {
    return Future.succeededFuture(Inbound.store(InboundEvent.parse(JsonBody.parse(body))));
  }

  /** {@code message_id} of a JSON object answer, if there is one. */
  private static String messageId(Buffer body) {
    if (body == null || body.length() == 0 || body.getByte(0) != '{') {
      return null;
    }
    try {
      Object id = body.toJsonObject().getValue("message_id");
      return id == null ? null : String.valueOf(id);
    } catch (RuntimeException notJson) {
      return null;
    }
  }
}
