package com.scairelay.ingress;

import com.scairelay.http.ProblemException;
import com.scairelay.http.Responses;
import com.scairelay.http.Routes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code /health/live} (the process answers) and {@code /health/ready} (and PostgreSQL answers within 2 s). */
public final class HealthRoutes implements Routes {
  private final Pool pool;

  public HealthRoutes(Pool pool) {
    this.pool = pool;
  }

  @Override
  public void mount(Router router) {
    router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
  }

  private void ready(RoutingContext ctx) {
    pool.query("SELECT 1").execute()
        .timeout(2, TimeUnit.SECONDS)
        .onSuccess(rows -> Responses.json(ctx, 200, new JsonObject().put("status", "UP").put("postgres", "UP")))
        .onFailure(err -> ctx.fail(new ProblemException(503, "Service Unavailable",
            "PostgreSQL does not answer", Map.of("Retry-After", "1"))));
  }
}
