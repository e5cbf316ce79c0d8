package com.scairelay.audit;

import com.scairelay.http.Routes;
import com.scairelay.http.Guard;
import com.scairelay.http.Caller;
import com.scairelay.http.Scopes;
import com.scairelay.http.JsonBody;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static com.scairelay.http.Responses.json;

/**
 * {@code POST /v1/events} (scope {@code events:publish}): a producer publishes
 * {@code {category, action, user_id?, resource_id?, ip?, payload?}}; the node assigns {@code event_id}
 * and {@code timestamp}, stores it in the audit log and queues it for every matching webhook
 * subscription, in one transaction.
 */
public record EventRoutes(Guard guard, AuditLog audit) implements Routes {
  @Override
  public void mount(Router router) {
    router.post("/v1/events").handler(guard.require(Scopes.EVENTS_PUBLISH)).handler(this::publish);
  }

  private void publish(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    Category category = JsonBody.requiredEnum(body, "category", Category.class);
    String action = JsonBody.requiredString(body, "action", 200);
    String userId = JsonBody.optionalString(body, "user_id", 255);
    String resourceId = JsonBody.optionalString(body, "resource_id", 255);
    String ip = JsonBody.optionalString(body, "ip", 64);
    JsonObject payload = body.containsKey("payload") ? JsonBody.requiredObject(body, "payload") : new JsonObject();
    String publisher = Caller.of(ctx).userId();
    AuditEvent event = audit.event(category, action, userId, resourceId, payload).withIp(ip)
        .withServiceAccount(Caller.of(ctx).serviceAccount());
    audit.recordPublished(event)
        .onSuccess(v -> json(ctx, 201, new JsonObject().put("event_id", event.eventId()).put("timestamp", event.timestamp().toString())
            .put("published_by", publisher)))
        .onFailure(ctx::fail);
  }
}
