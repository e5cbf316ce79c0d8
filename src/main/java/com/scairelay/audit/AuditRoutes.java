package com.scairelay.audit;

import com.scairelay.http.Routes;
import com.scairelay.http.Guard;
import com.scairelay.http.IsoTime;
import com.scairelay.http.Scopes;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static com.scairelay.http.Responses.json;

/**
 * {@code GET /v1/admin/audit?category=&action=&resource_id=&user_id=&since=&until=&limit=} and either
 * {@code after=} (oldest first, {@code next_after}) or {@code order=desc&before=} (newest first,
 * {@code next_before}, null once there is no more).
 */
public record AuditRoutes(Guard guard, AuditLog audit) implements Routes {
  @Override
  public void mount(Router router) {
    router.get("/v1/admin/audit").handler(guard.require(Scopes.AUDIT_READ)).handler(this::page);
  }

  private void page(RoutingContext ctx) {
    AuditQuery query = query(ctx);
    // Newest first reads one more than it shows, to know whether there is a page after this one.
    AuditQuery read = query.newestFirst() ? new AuditQuery(query.category(), query.action(), query.resourceId(), query.userId(),
        query.since(), query.until(), true, query.cursor(), query.limit() + 1) : query;
    audit.page(read)
        .onSuccess(events -> json(ctx, 200, query.newestFirst() ? newestFirst(events, query.limit()) : oldestFirst(events, query.cursor())))
        .onFailure(ctx::fail);
  }

  /** Today's tail: {@code next_after} is the last event shown, or the cursor given when nothing is newer. */
  private static JsonObject oldestFirst(List<AuditEvent> events, String after) {
    String next = events.isEmpty() ? after : events.get(events.size() - 1).eventId();
    return new JsonObject().put("events", toJson(events)).put("next_after", next);
  }

  private static JsonObject newestFirst(List<AuditEvent> events, int limit) {
    List<AuditEvent> shown = events.size() > limit ? events.subList(0, limit) : events;
    String next = events.size() > limit ? shown.get(shown.size() - 1).eventId() : null;
    return new JsonObject().put("events", toJson(shown)).put("next_before", next);
  }

  private static JsonArray toJson(List<AuditEvent> events) {
    JsonArray out = new JsonArray();
    events.forEach(e -> out.add(e.toJson()));
    return out;
  }

  private static AuditQuery query(RoutingContext ctx) {
    String category = param(ctx, "category");
    if (category != null && Arrays.stream(Category.values()).noneMatch(c -> c.name().equals(category))) {
      throw ProblemException.badRequest("query parameter 'category' must be one of " + Arrays.toString(Category.values()));
    }
    String order = param(ctx, "order");
    if (order != null && !order.equals("asc") && !order.equals("desc")) {
      throw ProblemException.badRequest("query parameter 'order' must be 'asc' (oldest first, the default) or 'desc' (newest first); got '"
          + shorten(order) + "'");
    }
    boolean newestFirst = "desc".equals(order);
    String after = param(ctx, "after");
    String before = param(ctx, "before");
    if (newestFirst && after != null) {
      throw ProblemException.badRequest("query parameter 'after' pages oldest first; with order=desc page with 'before' (the next_before of the page before)");
    }
    if (!newestFirst && before != null) {
      throw ProblemException.badRequest("query parameter 'before' pages newest first: add order=desc, or page oldest first with 'after'");
    }
    Instant since = IsoTime.parse("query parameter 'since'", param(ctx, "since"));
    Instant until = IsoTime.parse("query parameter 'until'", param(ctx, "until"));
    if (since != null && until != null && !until.isAfter(since)) {
      throw ProblemException.badRequest("query parameter 'until' (" + until + ") must be after 'since' (" + since + ")");
    }
    int limit = JsonBody.optionalInt(ctx, "limit", 100, 1, 1000);
    return new AuditQuery(category == null ? null : Category.valueOf(category), param(ctx, "action"), param(ctx, "resource_id"),
        param(ctx, "user_id"), since, until, newestFirst, newestFirst ? before : after, limit);
  }

  /** A query parameter; given empty, as absent. */
  private static String param(RoutingContext ctx, String name) {
    String value = ctx.request().getParam(name);
    return value == null || value.isEmpty() ? null : value;
  }

  private static String shorten(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "…";
  }
}
