package com.scairelay.ingress;

import com.scairelay.http.ProblemException;
import com.scairelay.http.Responses;
import com.scairelay.http.Routes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

/**
 * {@code /health/live} (the process answers) and {@code /health/ready} (PostgreSQL answers within 2 s
 * and the node holds its lease there, so it may deliver; the answer says what cluster it sees).
 */
public final class HealthRoutes implements Routes {
  private final Pool pool;
  private final BooleanSupplier leaseValid;
  private final Supplier<JsonObject> cluster;

  public HealthRoutes(Pool pool, BooleanSupplier leaseValid, Supplier<JsonObject> cluster) {
    this.pool = pool;
    this.leaseValid = leaseValid;
    this.cluster = cluster;
  }

  @Override
  public void mount(Router router) {
    router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
  }

  private void ready(RoutingContext ctx) {
    pool.query("SELECT 1").execute()
        .timeout(2, TimeUnit.SECONDS)
        .onSuccess(rows -> {
          if (!leaseValid.getAsBoolean()) {
            ctx.fail(new ProblemException(503, "Service Unavailable",
                "this node does not hold its lease in PostgreSQL (yet): it delivers nothing until it does", Map.of("Retry-After", "1")));
            return;
          }
          Responses.json(ctx, 200, new JsonObject().put("status", "UP").put("postgres", "UP").put("cluster", cluster.get()));
        })
        .onFailure(err -> ctx.fail(new ProblemException(503, "Service Unavailable",
            "PostgreSQL does not answer", Map.of("Retry-After", "1"))));
  }
}
