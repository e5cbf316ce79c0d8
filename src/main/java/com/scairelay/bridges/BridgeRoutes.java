package com.scairelay.bridges;

import com.scairelay.http.Caller;
import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.config.RelayConfig;
import com.scairelay.http.Guard;
import com.scairelay.http.Routes;
import com.scairelay.rooms.RoomStore;
import com.scairelay.targets.DeliveryCounters;
import com.scairelay.targets.Outbox;
import com.scairelay.transport.Connector;
import com.scairelay.transport.Connectors;
import com.scairelay.http.Scopes;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import static com.scairelay.http.Responses.json;
import com.scairelay.store.Ids;
import com.scairelay.store.RotatingSecret;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** The bridges admin API of DESIGN.md §3 (scopes {@code bridges:read}, {@code bridges:write}). */
public record BridgeRoutes(Guard guard, BridgeStore bridges, BridgeRegistry registry, RoomStore rooms, AuditLog audit,
                           Connectors connectors, Outbox outbox, DeliveryCounters deliveries, RelayConfig config, Clock clock)
    implements Routes {
  static final int DEFAULT_PAGE = 100;
  static final int MAX_PAGE = 500;

  @Override
  public void mount(Router router) {
    router.post("/v1/admin/bridges").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::create);
    router.get("/v1/admin/bridges").handler(guard.require(Scopes.BRIDGES_READ)).handler(this::list);
    router.get("/v1/admin/bridges/:id").handler(guard.require(Scopes.BRIDGES_READ)).handler(this::get);
    router.get("/v1/admin/transports").handler(guard.require(Scopes.BRIDGES_READ)).handler(this::transports);
    router.post("/v1/admin/bridges/:id/pause").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(ctx -> setPaused(ctx, true));
    router.post("/v1/admin/bridges/:id/resume").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(ctx -> setPaused(ctx, false));
    router.post("/v1/admin/bridges/:id/rotate-secret").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::rotate);
    router.delete("/v1/admin/bridges/:id").handler(guard.require(Scopes.BRIDGES_WRITE)).handler(this::delete);
  }

  /** A new shared secret: 32 random bytes; the HMAC key is the UTF-8 bytes of this string. */
  static String newSecret() {
    return "srb_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
  }

  /**
   * A bridge id the caller may choose ({@code bridge_id}), for a platform that must be told the bridge's
   * inbound URL before it shows the secret the bridge is created with (a Teams outgoing webhook).
   */
  private static final java.util.regex.Pattern CHOSEN_ID = java.util.regex.Pattern.compile("brg_[A-Za-z0-9_-]{8,60}");

  private void create(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    String chosenId = JsonBody.optionalString(body, "bridge_id", 64);
    if (chosenId != null && !CHOSEN_ID.matcher(chosenId).matches()) {
      throw ProblemException.badRequest("field 'bridge_id' must be brg_ followed by 8 to 60 letters, digits, '-' or '_'");
    }
    String transport = JsonBody.requiredString(body, "transport", 32);
    Connector connector = connectors.forBridge(transport);
    Direction direction = JsonBody.requiredEnum(body, "direction", Direction.class);
    String roomId = JsonBody.requiredString(body, "room_id", 255);
    String name = JsonBody.requiredString(body, "name", 200);
    int maxInFlight = JsonBody.optionalInt(body, "max_in_flight", config.delivery().defaultMaxInFlight(), 1, 100);
    rooms.find(roomId)
        .compose(room -> {
          if (room.isEmpty()) {
            throw ProblemException.badRequest("field 'room_id': no room " + roomId);
          }
          return connector.setUpBridge(body, direction.sendsOutbound(), direction.acceptsInbound(), connectors.sender());
        })
        .compose(setup -> {
          Instant now = clock.instant();
          String id = chosenId != null ? chosenId : Ids.newId("brg");
          Bridge bridge = new Bridge(id, roomId, transport, direction, name, setup.config(), RotatingSecret.of(newSecret()),
              setup.credentials(), false, maxInFlight, now, now);
          AuditEvent event = adminEvent(ctx, "bridge.created", bridge.id(),
              new JsonObject().put("name", name).put("transport", transport).put("direction", direction.wireName()).put("room_id", roomId));
          return bridges.insert(bridge, event).map(bridge).recover(err -> Future.failedFuture(
              err instanceof io.vertx.pgclient.PgException pg && "23505".equals(pg.getSqlState()) && chosenId != null
                  ? new ProblemException(409, "Conflict", "field 'bridge_id': bridge " + chosenId + " exists or existed; ids are never reused")
                  : err));
        })
        .onSuccess(bridge -> {
          changed(ctx, bridge.id());
          json(ctx, 201, bridge.toJson().put("shared_secret", bridge.secret()));
        })
        .onFailure(ctx::fail);
  }

  /**
   * {@code ?state=active|paused|deleted|all&limit=&cursor=}: a page in creation order, each bridge with
   * its state and counters; {@code next_cursor} is the cursor of the next page, null at the end.
   */
  private void list(RoutingContext ctx) {
    BridgeStore.Listing listing = listing(ctx.request().getParam("state"));
    int limit = JsonBody.optionalInt(ctx, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
    String cursor = ctx.request().getParam("cursor");
    String after = cursor == null || cursor.isEmpty() ? null : cursor;
    bridges.list(listing, after, limit + 1)
        .compose(page -> after == null || !page.isEmpty() ? Future.succeededFuture(page) : bridges.exists(after).map(known -> {
          if (!known) {
            throw ProblemException.badRequest("query parameter 'cursor' must be the next_cursor of the page before; there is no bridge " + after);
          }
          return page;
        }))
        .compose(page -> {
          List<BridgeStore.Listed> shown = page.size() > limit ? page.subList(0, limit) : page;
          List<String> ids = shown.stream().map(l -> l.bridge().id()).toList();
          return Future.all(bridges.counters(ids), deliveries.of(ids)).map(counted -> {
            JsonArray out = new JsonArray();
            shown.forEach(l -> out.add(withCounters(l.bridge(), counted.resultAt(0), counted.resultAt(1))
                .put("state", l.state()).put("deleted_at", l.deletedAt() == null ? null : l.deletedAt().toString())));
            String next = page.size() > limit ? shown.get(shown.size() - 1).bridge().id() : null;
            return new JsonObject().put("bridges", out).put("next_cursor", next);
          });
        })
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private static BridgeStore.Listing listing(String state) {
    if (state == null || state.isEmpty()) {
      return BridgeStore.Listing.LIVE;
    }
    switch (state) {
      case "active": return BridgeStore.Listing.ACTIVE;
      case "paused": return BridgeStore.Listing.PAUSED;
      case "deleted": return BridgeStore.Listing.DELETED;
      case "all": return BridgeStore.Listing.ALL;
      default: throw ProblemException.badRequest("query parameter 'state' must be one of active, paused, deleted, all; got '"
          + (state.length() <= 64 ? state : state.substring(0, 64) + "…") + "'");
    }
  }

  private void get(RoutingContext ctx) {
    found(ctx.pathParam("id"))
        .compose(bridge -> Future.all(bridges.counters(List.of(bridge.id())), deliveries.of(List.of(bridge.id())))
            .map(counted -> withCounters(bridge, counted.resultAt(0), counted.resultAt(1)).put("state", bridge.paused() ? "paused" : "active")))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  /** Which transports this node has, and the delivery counters of the bridges using each. */
  private void transports(RoutingContext ctx) {
    bridges.transportTotals()
        .map(used -> {
          JsonObject byName = new JsonObject();
          used.forEach(t -> byName.put(((JsonObject) t).getString("transport"), t));
          JsonArray out = new JsonArray();
          connectors.bridgeTransports().forEach(name -> out.add(byName.getJsonObject((String) name, new JsonObject()
              .put("transport", name).put("bridges", 0L).put("deliveries", new JsonObject()).put("attempts", new JsonObject()))));
          return new JsonObject().put("transports", out);
        })
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private void setPaused(RoutingContext ctx, boolean paused) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, paused ? "bridge.paused" : "bridge.resumed", id, new JsonObject());
    bridges.setPaused(id, paused, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .compose(v -> found(id))
        .onSuccess(bridge -> json(ctx, 200, bridge.toJson()))
        .onFailure(ctx::fail);
  }

  private void rotate(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String secret = newSecret();
    AuditEvent event = adminEvent(ctx, "bridge.secret_rotated", id, new JsonObject());
    Instant previousExpires = event.timestamp().plus(config.secretGrace());
    bridges.rotate(id, secret, previousExpires, event.timestamp(), event)
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
    bridges.delete(id, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private Future<Void> changedOr404(RoutingContext ctx, String id, boolean changed) {
    if (!changed) {
      throw ProblemException.notFound("no bridge " + id);
    }
    changed(ctx, id);
    return Future.succeededFuture();
  }

  /** Every node drops its cached copy; the target's owner looks at its queue again. */
  private void changed(RoutingContext ctx, String id) {
    registry.changed(ctx.vertx(), id);
    outbox.wake(BridgeTargets.KIND, id);
  }

  private Future<Bridge> found(String id) {
    return bridges.find(id).map(found -> found.orElseThrow(() -> ProblemException.notFound("no bridge " + id)));
  }

  private AuditEvent adminEvent(RoutingContext ctx, String action, String bridgeId, JsonObject payload) {
    return audit.adminEvent(Caller.of(ctx), action, bridgeId, payload);
  }

  /** The bridge with its inbound counters and its delivery counters ({@code delivered}, {@code failed}, {@code queued}). */
  private static JsonObject withCounters(Bridge bridge, JsonObject inbound, Map<String, JsonObject> delivery) {
    JsonObject mine = inbound.getJsonObject(bridge.id(), new JsonObject()
        .put("inbound_accepted", 0L).put("inbound_duplicates", 0L).put("inbound_signature_failures", 0L)
        .put("inbound_rejected_paused", 0L).putNull("last_inbound_at")).copy();
    mine.mergeIn(delivery.getOrDefault(bridge.id(), DeliveryCounters.none()));
    return bridge.toJson().put("counters", mine);
  }
}
