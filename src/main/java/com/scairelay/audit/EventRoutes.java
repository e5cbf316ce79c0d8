package com.scairelay.audit;

import com.scairelay.Services;
import com.scairelay.auth.AccessGuard;
import com.scairelay.auth.Scopes;
import com.scairelay.ingress.JsonBody;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static com.scairelay.ingress.Responses.json;

/**
 * {@code POST /v1/events} (scope {@code events:publish}): a producer publishes
 * {@code {category, action, user_id?, resource_id?, ip?, payload?}}; the node assigns {@code event_id}
 * and {@code timestamp}, stores it in the audit log and queues it for every matching webhook
 * subscription, in one transaction.
 */
public final class EventRoutes {
  private final Services services;

  public EventRoutes(Services services) {
    this.services = services;
  }

  public void mount(Router router) {
    router.post("/v1/events").handler(services.guard().require(Scopes.EVENTS_PUBLISH)).handler(this::publish);
  }

  private void publish(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    Category category = JsonBody.requiredEnum(body, "category", Category.class);
    String action = JsonBody.requiredString(body, "action", 200);
    String userId = JsonBody.optionalString(body, "user_id", 255);
    String resourceId = JsonBody.optionalString(body, "resource_id", 255);
    String ip = JsonBody.optionalString(body, "ip", 64);
    JsonObject payload = body.containsKey("payload") ? JsonBody.requiredObject(body, "payload") : new JsonObject();
    String publisher = AccessGuard.principal(ctx).userId();
    AuditEvent event = services.audit().event(category, action, userId, resourceId, payload).withIp(ip)
        .withServiceAccount(AccessGuard.principal(ctx).serviceAccount());
    services.audit().record(event)
        .onSuccess(v -> json(ctx, 201, new JsonObject().put("event_id", event.eventId()).put("timestamp", event.timestamp().toString())
            .put("published_by", publisher)))
        .onFailure(ctx::fail);
  }
}
