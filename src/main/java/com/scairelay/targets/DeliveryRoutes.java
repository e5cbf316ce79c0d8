package com.scairelay.targets;

import com.scairelay.http.Guard;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.http.Routes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import static com.scairelay.http.Responses.json;

/**
 * {@code GET /v1/admin/<kind>s/{id}/deliveries?limit=} for every target kind (scope {@code <kind>s:read}):
 * a target's delivery log, newest first, with every attempt, and its totals (deliveries by status,
 * attempts by outcome) over the log kept.
 */
public final class DeliveryRoutes implements Routes {
  private final Guard guard;
  private final TargetKinds kinds;
  private final DeliveryStore store;

  public DeliveryRoutes(Guard guard, TargetKinds kinds, Pool pool) {
    this.guard = guard;
    this.kinds = kinds;
    this.store = new DeliveryStore(pool, kinds);
  }

  @Override
  public void mount(Router router) {
    for (TargetKind kind : kinds.all()) {
      router.get("/v1/admin/" + kind.name() + "s/:id/deliveries").handler(guard.require(kind.name() + "s:read"))
          .handler(ctx -> log(ctx, kind));
    }
  }

  private void log(RoutingContext ctx, TargetKind kind) {
    String id = ctx.pathParam("id");
    int limit = JsonBody.optionalInt(ctx, "limit", 50, 1, 500);
    kind.lookup().apply(id)
        .compose(found -> {
          if (found.isEmpty()) {
            throw ProblemException.notFound("no " + kind.name() + " " + id);
          }
          return store.recent(id, limit).compose(deliveries -> store.totals(id).map(totals -> new JsonObject()
              .put(kind.name() + "_id", id).put("transport", found.get().connector()).put("totals", totals).put("deliveries", deliveries)));
        })
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }
}
