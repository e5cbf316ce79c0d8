package com.scairelay.metrics;

import com.scairelay.http.ProblemException;
import com.scairelay.http.Routes;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * {@code GET /metrics}: the node's registry in the Prometheus text format (0.0.4). Open to anyone who
 * reaches the port, unless {@code metrics.token} is set: then only to {@code Authorization: Bearer <token>}.
 */
final class MetricsRoutes implements Routes {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final Optional<byte[]> token;

  MetricsRoutes(PrometheusMeterRegistry registry, Optional<String> token) {
    this.registry = registry;
    this.token = token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void mount(Router router) {
    router.get("/metrics").handler(this::scrape);
  }

  private void scrape(RoutingContext ctx) {
    if (token.isPresent()) {
      String given = ctx.request().getHeader("Authorization");
      if (given == null || !MessageDigest.isEqual(token.get(), given.getBytes(StandardCharsets.UTF_8))) {
        throw ProblemException.unauthorized("/metrics needs Authorization: Bearer <metrics.token>");
      }
    }
    ctx.response().putHeader("Content-Type", CONTENT_TYPE).end(registry.scrape());
  }
}
