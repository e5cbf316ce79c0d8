package com.scairelay.bridges;

import com.scairelay.Services;
import com.scairelay.audit.AuditEvent;
import com.scairelay.auth.AccessGuard;
import com.scairelay.auth.Scopes;
import com.scairelay.ingress.JsonBody;
import com.scairelay.ingress.ProblemException;
import static com.scairelay.ingress.Responses.json;
import com.scairelay.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/** The bridges admin API of DESIGN.md §3 (scopes {@code bridges:read}, {@code bridges:write}). */
public final class BridgeRoutes {
  /** Transports this node can run; the others of DESIGN.md arrive with their own issues. */
  private static final Set<String> TRANSPORTS = Set.of("custom");

  private final Services services;

  public BridgeRoutes(Services services) {
    this.services = services;
  }

  public void mount(Router router) {
    AccessGuard guard = services.guard();
    router.post("/v1/admin/bridges").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::create);
    router.get("/v1/admin/bridges").handler(guard.require(Scopes.BRIDGES_READ)).handler(this::list);
    router.get("/v1/admin/bridges/:id").handler(guard.require(Scopes.BRIDGES_READ)).handler(this::get);
    router.post("/v1/admin/bridges/:id/pause").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(ctx -> setPaused(ctx, true));
    router.post("/v1/admin/bridges/:id/resume").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(ctx -> setPaused(ctx, false));
    router.post("/v1/admin/bridges/:id/rotate-secret").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::rotate);
    router.delete("/v1/admin/bridges/:id").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::delete);
  }

  /** A new shared secret: 32 random bytes; the HMAC key is the UTF-8 bytes of this string. */
  static String newSecret() {
    return "srb_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
  }

  private void create(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    String transport = JsonBody.requiredString(body, "transport", 32);
    if (!TRANSPORTS.contains(transport)) {
      throw ProblemException.badRequest("field 'transport' must be one of " + new JsonArray(List.copyOf(TRANSPORTS))
          + " on this version, got '" + transport + "'");
    }
    Direction direction = JsonBody.requiredEnum(body, "direction", Direction.class);
    String roomId = JsonBody.requiredString(body, "room_id", 255);
    String name = JsonBody.requiredString(body, "name", 200);
    JsonObject config = new JsonObject();
    String webhook = JsonBody.optionalString(body, "outbound_webhook", 2048);
    if (webhook != null || direction.sendsOutbound()) {
      config.put("outbound_webhook", validWebhook(webhook, direction));
    }
    int maxInFlight = JsonBody.optionalInt(body, "max_in_flight", services.config().delivery().defaultMaxInFlight(), 1, 100);
    Instant now = services.clock().instant();
    Bridge bridge = new Bridge(Ids.newId("brg"), roomId, transport, direction, name, config, newSecret(), null, null, false,
        maxInFlight, now, now);
    AuditEvent event = adminEvent(ctx, "bridge.created", bridge.id(),
        new JsonObject().put("name", name).put("transport", transport).put("direction", direction.wireName()).put("room_id", roomId));
    services.rooms().find(roomId)
        .compose(room -> {
          if (room.isEmpty()) {
            throw ProblemException.badRequest("field 'room_id': no room " + roomId);
          }
          return services.bridges().insert(bridge, event);
        })
        .onSuccess(v -> {
          services.bridgeRegistry().changed(ctx.vertx(), bridge.id());
          json(ctx, 201, bridge.toJson().put("shared_secret", bridge.secret()));
        })
        .onFailure(ctx::fail);
  }

  private String validWebhook(String url, Direction direction) {
    if (url == null || url.isBlank()) {
      throw ProblemException.badRequest("field 'outbound_webhook' is required when direction is '" + direction.wireName() + "'");
    }
    services.outboundGuard().refuseConfigured(url).ifPresent(reason -> {
      throw ProblemException.badRequest("field 'outbound_webhook' is refused: " + reason);
    });
    return url;
  }

  private void list(RoutingContext ctx) {
    services.bridges().list()
        .compose(bridges -> services.bridges().counters(bridges.stream().map(Bridge::id).toList()).map(counters -> {
          JsonArray out = new JsonArray();
          bridges.forEach(b -> out.add(withCounters(b, counters)));
          return new JsonObject().put("bridges", out);
        }))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    found(ctx.pathParam("id"))
        .compose(bridge -> services.bridges().counters(List.of(bridge.id())).map(counters -> withCounters(bridge, counters)))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private void setPaused(RoutingContext ctx, boolean paused) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, paused ? "bridge.paused" : "bridge.resumed", id, new JsonObject());
    services.bridges().setPaused(id, paused, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .compose(v -> found(id))
        .onSuccess(bridge -> json(ctx, 200, bridge.toJson()))
        .onFailure(ctx::fail);
  }

  private void rotate(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String secret = newSecret();
    AuditEvent event = adminEvent(ctx, "bridge.secret_rotated", id, new JsonObject());
    Instant previousExpires = event.timestamp().plus(services.config().secretGrace());
    services.bridges().rotate(id, secret, previousExpires, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .onSuccess(v -> json(ctx, 200, new JsonObject()
            .put("bridge_id", id)
            .put("shared_secret", secret)
            .put("previous_secret_expires_at", previousExpires.toString())))
        .onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, "bridge.deleted", id, new JsonObject());
    services.bridges().delete(id, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private Future<Void> changedOr404(RoutingContext ctx, String id, boolean changed) {
    if (!changed) {
      throw ProblemException.notFound("no bridge " + id);
    }
    services.bridgeRegistry().changed(ctx.vertx(), id);
    return Future.succeededFuture();
  }

  private Future<Bridge> found(String id) {
    return services.bridges().find(id).map(found -> found.orElseThrow(() -> ProblemException.notFound("no bridge " + id)));
  }

  private AuditEvent adminEvent(RoutingContext ctx, String action, String bridgeId, JsonObject payload) {
    return services.audit().adminEvent(AccessGuard.principal(ctx), action, bridgeId, payload);
  }

  private static JsonObject withCounters(Bridge bridge, JsonObject counters) {
    JsonObject mine = counters.getJsonObject(bridge.id(), new JsonObject()
        .put("inbound_accepted", 0L).put("inbound_duplicates", 0L).put("inbound_signature_failures", 0L)
        .put("inbound_rejected_paused", 0L).putNull("last_inbound_at"));
    return bridge.toJson().put("counters", mine);
  }
}
