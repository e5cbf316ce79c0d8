package com.scairelay.targets;

import com.scairelay.Services;
import com.scairelay.auth.Scopes;
import com.scairelay.ingress.JsonBody;
import com.scairelay.ingress.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Optional;

import static com.scairelay.ingress.Responses.json;

/**
 * {@code GET /v1/admin/bridges/{id}/deliveries?limit=} and {@code GET /v1/admin/webhooks/{id}/deliveries?limit=}:
 * a target's delivery log, newest first, with every attempt.
 */
public final class DeliveryRoutes {
  private final Services services;

  public DeliveryRoutes(Services services) {
    this.services = services;
  }

  public void mount(Router router) {
    router.get("/v1/admin/bridges/:id/deliveries").handler(services.guard().require(Scopes.BRIDGES_READ))
        .handler(ctx -> log(ctx, "bridge", services.bridges().find(ctx.pathParam("id")).map(Optional::isPresent)));
    router.get("/v1/admin/webhooks/:id/deliveries").handler(services.guard().require(Scopes.WEBHOOKS_READ))
        .handler(ctx -> log(ctx, "webhook", services.webhooks().find(ctx.pathParam("id")).map(Optional::isPresent)));
  }

  private void log(RoutingContext ctx, String kind, Future<Boolean> exists) {
    String id = ctx.pathParam("id");
    int limit = JsonBody.optionalInt(ctx, "limit", 50, 1, 500);
    exists
        .compose(found -> {
          if (!found) {
            throw ProblemException.notFound("no " + kind + " " + id);
          }
          return services.deliveries().recent(id, limit);
        })
        .onSuccess(deliveries -> json(ctx, 200, new JsonObject().put(kind + "_id", id).put("deliveries", deliveries)))
        .onFailure(ctx::fail);
  }
}
