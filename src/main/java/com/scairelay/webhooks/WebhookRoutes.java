package com.scairelay.webhooks;

import com.scairelay.http.Caller;
import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.config.RelayConfig;
import com.scairelay.http.Guard;
import com.scairelay.http.Routes;
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

import static com.scairelay.http.Responses.json;

/** The webhook subscriptions admin API of DESIGN.md §3 (scopes {@code webhooks:read}, {@code webhooks:write}). */
public record WebhookRoutes(Guard guard, WebhookStore store, AuditLog audit, OutboundGuard outboundGuard,
                            Outbox outbox, RelayConfig config, Clock clock) implements Routes {
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
  }

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

  private void list(RoutingContext ctx) {
    store.list()
        .onSuccess(webhooks -> {
          JsonArray out = new JsonArray();
          webhooks.forEach(w -> out.add(w.toJson()));
          json(ctx, 200, new JsonObject().put("webhooks", out));
        })
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
