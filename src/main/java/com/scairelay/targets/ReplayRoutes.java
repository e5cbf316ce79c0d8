package com.scairelay.targets;

import com.scairelay.http.IsoTime;
import com.scairelay.http.Caller;
import com.scairelay.http.Guard;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.http.Routes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.time.Instant;

import static com.scairelay.http.Responses.json;

/**
 * Replay for every target kind (scope {@code <kind>s:write}), each audited as an {@code ADMIN} event
 * in its own transaction:
 * <ul>
 *   <li>{@code POST /v1/admin/<kind>s/{id}/deliveries/{delivery_id}/resend}: 202, one delivery queued
 *       again ({@code <kind>.delivery_resent});</li>
 *   <li>{@code POST /v1/admin/<kind>s/{id}/recover {since, until?, limit?}}: 202, the deliveries that
 *       failed for good in the window queued again, in order ({@code <kind>.deliveries_recovered}, when
 *       it queued any).</li>
 * </ul>
 */
public final class ReplayRoutes implements Routes {
  /** Most deliveries one recovery queues: one bounded transaction; the answer's {@code remaining} says whether to call again. */
  static final int MAX_RECOVERED = 10_000;
  /** Most new delivery ids a recovery's answer and audit event list. */
  static final int IDS_SHOWN = 100;

  /** Records an admin change in its transaction (the audit log, which this package cannot name). */
  @FunctionalInterface
  public interface AdminAudit {
    Future<Void> record(Outbox.Tx tx, Caller who, String action, String targetId, JsonObject payload);
  }

  private final Guard guard;
  private final TargetKinds kinds;
  private final Outbox outbox;
  private final AdminAudit audit;
  private final Clock clock;
  private final Replays replays;

  public ReplayRoutes(Guard guard, TargetKinds kinds, Outbox outbox, AdminAudit audit, Clock clock) {
    this.guard = guard;
    this.kinds = kinds;
    this.outbox = outbox;
    this.audit = audit;
    this.clock = clock;
    this.replays = new Replays(kinds);
  }

  @Override
  public void mount(Router router) {
    for (TargetKind kind : kinds.all()) {
      String base = "/v1/admin/" + kind.name() + "s/:id";
      String scope = kind.name() + "s:write";
      router.post(base + "/deliveries/:delivery_id/resend").handler(guard.require(scope)).handler(ctx -> resend(ctx, kind));
      router.post(base + "/recover").handler(guard.require(scope)).handler(ctx -> recover(ctx, kind));
    }
  }

  private void resend(RoutingContext ctx, TargetKind kind) {
    String id = ctx.pathParam("id");
    long deliveryId = DeliveryIds.parse("path parameter 'delivery_id'", ctx.pathParam("delivery_id"));
    Caller who = Caller.of(ctx);
    kind.found(id)
        .compose(target -> outbox.inTransaction(tx -> replays.resend(tx, kind, id, deliveryId, clock.instant())
            .compose(resent -> audit.record(tx, who, kind.name() + ".delivery_resent", id, resent.toJson()).map(resent))))
        .onSuccess(resent -> json(ctx, 202, resent.toJson().put(kind.name() + "_id", id)))
        .onFailure(ctx::fail);
  }

  private void recover(RoutingContext ctx, TargetKind kind) {
    String id = ctx.pathParam("id");
    JsonObject body = JsonBody.of(ctx);
    Instant since = IsoTime.parse("field 'since'", JsonBody.requiredString(body, "since", 64));
    Instant now = clock.instant();
    String untilText = JsonBody.optionalString(body, "until", 64);
    Instant until = untilText == null ? now : IsoTime.parse("field 'until'", untilText);
    if (until.isBefore(since)) {
      throw ProblemException.badRequest("field 'until' (" + until + ") is before field 'since' (" + since + ")"
          + (untilText == null ? "; without 'until' the window ends now" : ""));
    }
    int limit = JsonBody.optionalInt(body, "limit", MAX_RECOVERED, 1, MAX_RECOVERED);
    Caller who = Caller.of(ctx);
    kind.found(id)
        .compose(target -> outbox.inTransaction(tx -> replays.recover(tx, kind, id, since, until, limit, now)
            .compose(recovered -> recovered.deliveryIds().isEmpty() ? Future.succeededFuture(recovered)
                : audit.record(tx, who, kind.name() + ".deliveries_recovered", id, window(recovered, since, until)).map(recovered))))
        .onSuccess(recovered -> json(ctx, 202, window(recovered, since, until).put(kind.name() + "_id", id)))
        .onFailure(ctx::fail);
  }

  private static JsonObject window(Replays.Recovered recovered, Instant since, Instant until) {
    return recovered.toJson(IDS_SHOWN).put("since", since.toString()).put("until", until.toString());
  }
}
