package com.scairelay.ingress;

import com.scairelay.Services;
import com.scairelay.audit.Category;
import com.scairelay.bridges.Bridge;
import com.scairelay.bridges.BridgeCounters.Kind;
import com.scairelay.transport.SignatureScheme;
import com.scairelay.eventlog.Appended;
import com.scairelay.eventlog.EventLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code POST /v1/bridges/{id}/inbound}: a foreign system's signed webhook. Checked in this order:
 * bridge exists (404), accepts inbound (403), signature (401, audited), paused (503 + Retry-After),
 * body (400); then stored through the event log and acknowledged 202 only after commit.
 */
final class InboundRoute implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(InboundRoute.class);

  private final Services services;
  private final EventLog eventLog;

  InboundRoute(Services services, EventLog eventLog) {
    this.services = services;
    this.eventLog = eventLog;
  }

  void mount(Router router) {
    router.post("/v1/bridges/:id/inbound").handler(this);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String bridgeId = ctx.pathParam("id");
    Instant now = services.clock().instant();
    services.bridgeRegistry().find(bridgeId)
        .compose(found -> accept(ctx, found.orElseThrow(() -> ProblemException.notFound("no bridge " + bridgeId)), now))
        .onSuccess(appended -> respond(ctx, bridgeId, appended, now))
        .onFailure(ctx::fail);
  }

  private Future<Appended> accept(RoutingContext ctx, Bridge bridge, Instant now) {
    if (!bridge.direction().acceptsInbound()) {
      throw new ProblemException(403, "Forbidden", "bridge " + bridge.id() + " is outbound-only; it accepts no inbound webhooks");
    }
    Buffer body = ctx.body().buffer();
    if (body == null) {
      body = Buffer.buffer();
    }
    Optional<String> failure = SignatureScheme.verify(ctx.request().getHeader(SignatureScheme.HEADER), body,
        bridge.verifyingSecrets(now), now, services.config().signatureTolerance());
    if (failure.isPresent()) {
      services.bridgeCounters().count(bridge.id(), Kind.SIGNATURE_FAILURE, now);
      ProblemException unauthorized = ProblemException.unauthorized("signature verification failed: " + failure.get());
      return auditSignatureFailure(ctx, bridge, failure.get(), now).transform(recorded -> Future.failedFuture(unauthorized));
    }
    if (bridge.paused()) {
      services.bridgeCounters().count(bridge.id(), Kind.REJECTED_PAUSED, now);
      String retryAfter = Integer.toString(services.config().pausedRetryAfterSeconds());
      throw new ProblemException(503, "Service Unavailable",
          "bridge " + bridge.id() + " is paused; retry after " + retryAfter + " s, nothing was stored", Map.of("Retry-After", retryAfter));
    }
    InboundMessage message = InboundMessage.parse(JsonBody.parse(body));
    return eventLog.append(message.toWrite(bridge));
  }

  private void respond(RoutingContext ctx, String bridgeId, Appended appended, Instant now) {
    services.bridgeCounters().count(bridgeId, appended.duplicate() ? Kind.DUPLICATE : Kind.ACCEPTED, now);
    Responses.json(ctx, appended.duplicate() ? 200 : 202,
        new JsonObject().put("event_id", appended.eventId()).put("duplicate", appended.duplicate()));
  }

  /**
   * Recorded before the 401 is sent; at most {@code inbound.signature_failure_audits_per_minute} per bridge,
   * and the next one recorded counts those left out.
   */
  private Future<Void> auditSignatureFailure(RoutingContext ctx, Bridge bridge, String reason, Instant now) {
    OptionalLong admitted = services.failureAudits().admit(bridge.id(), now);
    if (admitted.isEmpty()) {
      return Future.succeededFuture();
    }
    JsonObject payload = new JsonObject()
        .put("bridge_id", bridge.id())
        .put("reason", reason)
        .put("remote_address", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress())
        .put("request_id", RequestIds.of(ctx))
        .put("not_recorded_before_this", admitted.getAsLong());
    return services.audit().record(services.audit().event(Category.SECURITY, "bridge.inbound_signature_failed", null, bridge.id(), payload))
        .onFailure(err -> log.warn("could not record a signature failure of bridge {}: {}", bridge.id(), err.getMessage()));
  }
}
