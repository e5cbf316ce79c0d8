package com.scairelay.ingress;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.bridges.Bridge;
import com.scairelay.bridges.BridgeCounters;
import com.scairelay.bridges.BridgeCounters.Kind;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.eventlog.EventWrite;
import com.scairelay.eventlog.Sender;
import com.scairelay.http.ProblemException;
import com.scairelay.http.RequestIds;
import com.scairelay.http.Responses;
import com.scairelay.http.Routes;
import com.scairelay.transport.Connectors;
import com.scairelay.transport.Inbound;
import com.scairelay.transport.InboundAdapter;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundEvent;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code POST /v1/bridges/{id}/<path>}: a foreign system's signed webhook, read by the inbound adapter
 * of the bridge's connector ({@code inbound} for {@code custom}). Checked in this order: bridge exists
 * and its connector takes this path (404), accepts inbound (403), signature (401, audited), paused
 * (503 + Retry-After), body (400); then stored through the event log and acknowledged 202 only after commit.
 */
public record InboundRoute(BridgeRegistry bridges, BridgeCounters counters, Connectors connectors, EventLog eventLog,
                           AuditLog audit, FailureAuditLimiter failureAudits, RelayConfig config, Clock clock,
                           InboundMeters meters) implements Routes {
  private static final Logger log = LoggerFactory.getLogger(InboundRoute.class);
  private static final String PREFIX = "/v1/bridges/";


  @Override
  public void mount(Router router) {
    // The failure handler counts what is refused before this route runs (a body over the limit, say).
    router.post(PREFIX + ":id/*").handler(this::handle).failureHandler(ctx -> {
      meters.watch(ctx);
      ctx.next();
    });
  }

  private void handle(RoutingContext ctx) {
    InboundMeters.Answer answer = meters.watch(ctx);
    String bridgeId = ctx.pathParam("id");
    String path = ctx.normalizedPath().substring(PREFIX.length() + bridgeId.length() + 1);
    Instant now = clock.instant();
    bridges.find(bridgeId)
        .compose(found -> {
          Bridge bridge = found.orElseThrow(() -> ProblemException.notFound("no bridge " + bridgeId));
          answer.transport(bridge.transport());
          InboundAdapter adapter = connectors.find(bridge.transport()).flatMap(c -> c.inbound())
              .filter(a -> a.path().equals(path))
              .orElseThrow(() -> ProblemException.notFound("bridge " + bridgeId + " (transport " + bridge.transport()
                  + ") takes no requests at " + ctx.normalizedPath()));
          return accept(ctx, bridge, adapter, now, answer);
        })
        .onSuccess(reply -> {
          if (reply.body() == null) {
            ctx.response().setStatusCode(reply.status()).end();
          } else {
            Responses.json(ctx, reply.status(), reply.body());
          }
        })
        .onFailure(ctx::fail);
  }

  private Future<Inbound.Reply> accept(RoutingContext ctx, Bridge bridge, InboundAdapter adapter, Instant now, InboundMeters.Answer answer) {
    if (!bridge.direction().acceptsInbound()) {
      throw new ProblemException(403, "Forbidden", "bridge " + bridge.id() + " is outbound-only; it accepts no inbound webhooks");
    }
    Buffer body = ctx.body().buffer();
    if (body == null) {
      body = Buffer.buffer();
    }
    InboundBridge inbound = bridge.inbound(now);
    Optional<String> failure = adapter.verify(ctx.request().headers(), body, inbound, now, config.signatureTolerance());
    if (failure.isPresent()) {
      counters.count(bridge.id(), Kind.SIGNATURE_FAILURE, now);
      ProblemException unauthorized = ProblemException.unauthorized("signature verification failed: " + failure.get());
      return auditSignatureFailure(ctx, bridge, failure.get(), now).transform(recorded -> Future.failedFuture(unauthorized));
    }
    if (bridge.paused()) {
      counters.count(bridge.id(), Kind.REJECTED_PAUSED, now);
      String retryAfter = Integer.toString(config.pausedRetryAfterSeconds());
      throw new ProblemException(503, "Service Unavailable",
          "bridge " + bridge.id() + " is paused; retry after " + retryAfter + " s, nothing was stored", Map.of("Retry-After", retryAfter));
    }
    return adapter.read(ctx.request().headers(), body, inbound, connectors.inboundContext()).compose(read -> {
      if (read instanceof Inbound.Reply reply) {
        return Future.succeededFuture(reply);
      }
      Inbound.Store store = (Inbound.Store) read;
      return eventLog.append(toWrite(store.event(), bridge)).map(appended -> {
        counters.count(bridge.id(), appended.duplicate() ? Kind.DUPLICATE : Kind.ACCEPTED, now);
        answer.stored(appended.duplicate());
        ctx.addEndHandler(sent -> store.afterAnswer().run()); // once the answer is out, not before
        return adapter.stored(appended.eventId(), appended.duplicate());
      });
    });
  }

  /** The event to store: sent by the bridge's shadow of the sender, the original sender kept in the content. */
  public static EventWrite toWrite(InboundEvent event, Bridge bridge) {
    return toWrite(event, bridge.id(), bridge.roomId());
  }

  /** The same, for a bridge known by its ids (events heard on a platform connection). */
  public static EventWrite toWrite(InboundEvent event, String bridgeId, String roomId) {
    JsonObject stored = event.content().copy().put("_imported_sender", event.sender().copy());
    return new EventWrite(roomId, Sender.shadow(bridgeId, event.externalId(), event.displayName(), event.avatarUrl()), stored,
        event.threadId(), null, event.replyToExternalId(), bridgeId, event.eventId(), event.messageId());
  }

  /**
   * Recorded before the 401 is sent; at most {@code inbound.signature_failure_audits_per_minute} per bridge,
   * and the next one recorded counts those left out.
   */
  private Future<Void> auditSignatureFailure(RoutingContext ctx, Bridge bridge, String reason, Instant now) {
    OptionalLong admitted = failureAudits.admit(bridge.id(), now);
    if (admitted.isEmpty()) {
      return Future.succeededFuture();
    }
    JsonObject payload = new JsonObject()
        .put("bridge_id", bridge.id())
        .put("reason", reason)
        .put("remote_address", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress())
        .put("request_id", RequestIds.of(ctx))
        .put("not_recorded_before_this", admitted.getAsLong());
    return audit.record(audit.event(Category.SECURITY, "bridge.inbound_signature_failed", null, bridge.id(), payload))
        .onFailure(err -> log.warn("could not record a signature failure of bridge {}: {}", bridge.id(), err.getMessage()));
  }
}
