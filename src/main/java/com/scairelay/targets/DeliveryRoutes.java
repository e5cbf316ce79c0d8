package com.scairelay.targets;

import com.scairelay.Services;
import com.scairelay.auth.Scopes;
import com.scairelay.ingress.JsonBody;
import com.scairelay.ingress.ProblemException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static com.scairelay.ingress.Responses.json;

/** {@code GET /v1/admin/bridges/{id}/deliveries?limit=}: the delivery log, newest first, with every attempt. */
public final class DeliveryRoutes {
  private final Services services;

  public DeliveryRoutes(Services services) {
    this.services = services;
  }

  public void mount(Router router) {
    router.get("/v1/admin/bridges/:id/deliveries").handler(services.guard().require(Scopes.BRIDGES_READ)).handler(this::bridgeDeliveries);
  }

  private void bridgeDeliveries(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    int limit = JsonBody.optionalInt(ctx, "limit", 50, 1, 500);
    services.bridges().find(id)
        .compose(found -> {
          if (found.isEmpty()) {
            throw ProblemException.notFound("no bridge " + id);
          }
          return services.deliveries().recent(id, limit);
        })
        .onSuccess(deliveries -> json(ctx, 200, new JsonObject().put("bridge_id", id).put("deliveries", deliveries)))
        .onFailure(ctx::fail);
  }
}
