package com.scairelay.targets;

import com.scairelay.http.IsoTime;
import com.scairelay.http.Guard;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.http.Routes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.time.Instant;

import static com.scairelay.http.Responses.json;

/**
 * {@code GET /v1/admin/<kind>s/{id}/deliveries?status=&since=&limit=&cursor=} for every target kind
 * (scope {@code <kind>s:read}): a page of a target's delivery log, newest first, with every attempt,
 * {@code next_cursor} when there may be more, and its totals (deliveries by status, attempts by
 * outcome) over the whole log kept.
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
    DeliveryStore.Page page = page(ctx);
    kind.found(id)
        .compose(target -> store.page(id, page).compose(deliveries -> store.totals(id).map(totals -> new JsonObject()
            .put(kind.name() + "_id", id).put("transport", target.connector()).put("totals", totals).put("deliveries", deliveries)
            .put("next_cursor", deliveries.size() < page.limit() ? null : deliveries.getJsonObject(deliveries.size() - 1).getLong("delivery_id")))))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private static DeliveryStore.Page page(RoutingContext ctx) {
    String status = param(ctx, "status");
    if (status != null && !DeliveryStore.STATUSES.contains(status)) {
      throw ProblemException.badRequest("query parameter 'status' must be one of " + String.join(", ", DeliveryStore.STATUSES)
          + "; got '" + status + "'");
    }
    Instant since = IsoTime.parse("query parameter 'since'", param(ctx, "since"));
    String cursor = param(ctx, "cursor");
    Long before = cursor == null ? null : DeliveryIds.parse("query parameter 'cursor' (the next_cursor of the page before)", cursor);
    return new DeliveryStore.Page(status, since, before, JsonBody.optionalInt(ctx, "limit", 50, 1, 500));
  }

  /** A query parameter; given empty, as absent. */
  private static String param(RoutingContext ctx, String name) {
    String value = ctx.request().getParam(name);
    return value == null || value.isEmpty() ? null : value;
  }
}
