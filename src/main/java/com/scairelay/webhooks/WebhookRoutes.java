package com.scairelay.webhooks;

import com.scairelay.http.Caller;
import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.config.RelayConfig;
import com.scairelay.http.Guard;
import com.scairelay.http.Routes;
import com.scairelay.targets.DeliveryCounters;
import com.scairelay.targets.Outbox;
import com.scairelay.transport.OutboundGuard;
import com.scairelay.http.Scopes;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
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

import static com.scairelay.http.Responses.json;

/** The webhook subscriptions admin API of DESIGN.md §3 (scopes {@code webhooks:read}, {@code webhooks:write}). */
public record WebhookRoutes(Guard guard, WebhookStore store, AuditLog audit, OutboundGuard outboundGuard,
                            Outbox outbox, DeliveryCounters deliveries, RelayConfig config, Clock clock) implements Routes {
  static final int DEFAULT_PAGE = 100;
  static final int MAX_PAGE = 500;

  @Override
  public void mount(Router router) {
    router.post("/v1/admin/webhooks").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(this::create);
    router.get("/v1/admin/webhooks").handler(guard.require(Scopes.WEBHOOKS_READ)).handler(this::list);
    router.get("/v1/admin/webhooks/:id").handler(guard.require(Scopes.WEBHOOKS_READ)).handler(this::get);
    router.patch("/v1/admin/webhooks/:id").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(this::patch);
    router.delete("/v1/admin/webhooks/:id").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(this::delete);
    router.post("/v1/admin/webhooks/:id/pause").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(ctx -> setPaused(ctx, true));
    router.post("/v1/admin/webhooks/:id/resume").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(ctx -> setPaused(ctx, false));
    router.post("/v1/admin/webhooks/:id/rotate-secret").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(this::rotate);
    router.post("/v1/admin/webhooks/:id/test").handler(guard.require(Scopes.WEBHOOKS_WRITE)).handler(this::sendTest);
  }

  static final String TEST_ACTION = "webhook.test";

  static String newSecret() {
    return "whsec_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
  }

  private void create(RoutingContext ctx) {
    WebhookRequest request = WebhookRequest.parse(JsonBody.of(ctx), true, outboundGuard);
    Instant now = clock.instant();
    String secret = request.secret() != null ? request.secret() : newSecret();
    Webhook webhook = new Webhook(Ids.newId("whk"), request.name(), request.url(), request.categories(), request.filters(),
        request.headers(), RotatingSecret.of(secret), false, request.queueLimit(), now, now);
    AuditEvent event = adminEvent(ctx, "webhook.created", webhook.id(), new JsonObject()
        .put("name", webhook.name()).put("url", webhook.url()).put("events", new JsonArray(webhook.categories())));
    store.insert(webhook, event)
        .onSuccess(v -> json(ctx, 201, webhook.toJson().put("secret", secret)))
        .onFailure(ctx::fail);
  }

  /** {@code ?limit=&cursor=}: a page in creation order, each with its delivery counters; {@code next_cursor} null at the end. */
  private void list(RoutingContext ctx) {
    int limit = JsonBody.optionalInt(ctx, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
    String cursor = ctx.request().getParam("cursor");
    String after = cursor == null || cursor.isEmpty() ? null : cursor;
    store.list(after, limit + 1)
        .compose(page -> after == null || !page.isEmpty() ? Future.succeededFuture(page) : store.exists(after).map(known -> {
          if (!known) {
            throw ProblemException.badRequest("query parameter 'cursor' must be the next_cursor of the page before; there is no webhook " + after);
          }
          return page;
        }))
        .compose(page -> {
          List<Webhook> shown = page.size() > limit ? page.subList(0, limit) : page;
          return deliveries.of(shown.stream().map(Webhook::id).toList()).map(counters -> {
            JsonArray out = new JsonArray();
            shown.forEach(w -> out.add(w.toJson().put("counters", counters.getOrDefault(w.id(), DeliveryCounters.none()))));
            return new JsonObject().put("webhooks", out).put("next_cursor", page.size() > limit ? shown.get(shown.size() - 1).id() : null);
          });
        })
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    found(ctx.pathParam("id")).onSuccess(w -> json(ctx, 200, w.toJson())).onFailure(ctx::fail);
  }

  private void patch(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JsonObject body = JsonBody.of(ctx);
    WebhookRequest change = WebhookRequest.parse(body, false, outboundGuard);
    AuditEvent event = adminEvent(ctx, "webhook.updated", id, new JsonObject().put("fields", new JsonArray(body.fieldNames().stream().sorted().toList())));
    store.update(id, change, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .compose(v -> found(id))
        .onSuccess(w -> json(ctx, 200, w.toJson()))
        .onFailure(ctx::fail);
  }

  private void setPaused(RoutingContext ctx, boolean paused) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, paused ? "webhook.paused" : "webhook.resumed", id, new JsonObject());
    store.setPaused(id, paused, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .compose(v -> found(id))
        .onSuccess(w -> json(ctx, 200, w.toJson()))
        .onFailure(ctx::fail);
  }

  /** The new secret signs from now on; the previous one is kept for {@code webhooks.secret_grace_seconds} (24 h). */
  private void rotate(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String secret = newSecret();
    AuditEvent event = adminEvent(ctx, "webhook.secret_rotated", id, new JsonObject());
    Instant previousExpires = event.timestamp().plus(config.webhookSecretGrace());
    store.rotate(id, secret, previousExpires, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .onSuccess(v -> json(ctx, 200, new JsonObject().put("webhook_id", id).put("secret", secret)
            .put("previous_secret_expires_at", previousExpires.toString())))
        .onFailure(ctx::fail);
  }

  /**
   * Queues a test event to this subscription only, whatever its filters (a paused one keeps it queued),
   * in the transaction of its {@code webhook.test_sent} audit event. The test event is stored in the
   * audit log as every delivered event is (the delivery sends it as stored) but fanned out to no one else.
   */
  private void sendTest(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Caller who = Caller.of(ctx);
    found(id)
        .compose(webhook -> {
          AuditEvent test = audit.event(Category.valueOf(webhook.categories().get(0)), TEST_ACTION, who.userId(), id,
              new JsonObject().put("test", true)).withServiceAccount(who.serviceAccount());
          return outbox.inTransaction(tx -> audit.storeOnly(tx, test)
              .compose(v -> tx.enqueueOne(WebhookTargets.KIND, id, test.eventId(), test.timestamp()))
              .compose(deliveryId -> audit.record(tx, audit.adminEvent(who, "webhook.test_sent", id, new JsonObject()
                  .put("webhook_id", id).put("event_id", test.eventId()).put("delivery_id", deliveryId))).map(deliveryId)))
              .map(deliveryId -> new JsonObject().put("delivery_id", deliveryId).put("event_id", test.eventId()));
        })
        .onSuccess(body -> json(ctx, 202, body))
        .onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, "webhook.deleted", id, new JsonObject());
    store.delete(id, event.timestamp(), event)
        .compose(changed -> changedOr404(ctx, id, changed))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  /** A change reaches the delivery side at once: the subscription's queue actor looks again. */
  private Future<Void> changedOr404(RoutingContext ctx, String id, boolean changed) {
    if (!changed) {
      throw ProblemException.notFound("no webhook " + id);
    }
    outbox.wake(WebhookTargets.KIND, id);
    return Future.succeededFuture();
  }

  private Future<Webhook> found(String id) {
    return store.find(id).map(found -> found.orElseThrow(() -> ProblemException.notFound("no webhook " + id)));
  }

  private AuditEvent adminEvent(RoutingContext ctx, String action, String webhookId, JsonObject payload) {
    return audit.adminEvent(Caller.of(ctx), action, webhookId, payload);
  }
}
