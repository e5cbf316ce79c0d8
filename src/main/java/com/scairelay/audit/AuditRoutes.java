package com.scairelay.audit;

import com.scairelay.http.Routes;
import com.scairelay.http.Guard;
import com.scairelay.http.Scopes;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Arrays;

import static com.scairelay.http.Responses.json;

/** {@code GET /v1/admin/audit?category=&action=&after=&limit=}: the audit log, oldest first. */
public record AuditRoutes(Guard guard, AuditLog audit) implements Routes {
  @Override
  public void mount(Router router) {
    router.get("/v1/admin/audit").handler(guard.require(Scopes.AUDIT_READ)).handler(this::page);
  }

  private void page(RoutingContext ctx) {
    String category = ctx.request().getParam("category");
    if (category != null && Arrays.stream(Category.values()).noneMatch(c -> c.name().equals(category))) {
      throw ProblemException.badRequest("query parameter 'category' must be one of " + Arrays.toString(Category.values()));
    }
    String action = ctx.request().getParam("action");
    String after = ctx.request().getParam("after");
    int limit = JsonBody.optionalInt(ctx, "limit", 100, 1, 1000);
    audit.page(category, action, after, limit)
        .onSuccess(events -> {
          JsonArray out = new JsonArray();
          events.forEach(e -> out.add(e.toJson()));
          String next = events.isEmpty() ? after : events.get(events.size() - 1).eventId();
          json(ctx, 200, new JsonObject().put("events", out).put("next_after", next));
        })
        .onFailure(ctx::fail);
  }
}
