package com.scairelay.ingress;

import com.scairelay.Services;
import com.scairelay.audit.AuditRoutes;
import com.scairelay.audit.EventRoutes;
import com.scairelay.auth.ApplicationRoutes;
import com.scairelay.auth.TokenRoutes;
import com.scairelay.bridges.BridgeRoutes;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.rooms.RoomRoutes;
import com.scairelay.targets.DeliveryRoutes;
import com.scairelay.webhooks.WebhookRoutes;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.Set;

/**
 * The HTTP side of a node: one instance per event loop, all listening on the same port. Stateless
 * apart from its own {@link EventLog}, which group-commits what this event loop receives.
 */
public final class IngressVerticle extends VerticleBase {
  private static final Set<HttpMethod> BODY_METHODS = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH);

  private final Services services;
  private HttpServer server;

  public IngressVerticle(Services services) {
    this.services = services;
  }

  @Override
  public Future<?> start() {
    RelayConfig config = services.config();
    EventLog eventLog = new EventLog(vertx, services.pool(), services.clock(), services.eventLogStats(),
        config.dedupeWindow(), config.eventLogMaxBatch(), config.eventLogWindowMs(), config.eventLogMaxPending(),
        config.eventLogMaxInFlight());
    Router router = Router.router(vertx);
    router.route().handler(RequestIds::assign);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodyBytes());
    router.route().handler(ctx -> {
      if (BODY_METHODS.contains(ctx.request().method())) {
        body.handle(ctx);
      } else {
        ctx.next();
      }
    });
    new HealthRoutes(services.pool()).mount(router);
    new InboundRoute(services, eventLog).mount(router);
    new BridgeRoutes(services).mount(router);
    new RoomRoutes(services, eventLog).mount(router);
    new AuditRoutes(services).mount(router);
    new DeliveryRoutes(services).mount(router);
    new WebhookRoutes(services).mount(router);
    new EventRoutes(services).mount(router);
    new ApplicationRoutes(services).mount(router);
    new TokenRoutes(services).mount(router);
    ProblemHandler problems = new ProblemHandler();
    router.route().failureHandler(problems);
    router.errorHandler(404, problems);
    router.errorHandler(405, problems);
    return vertx.createHttpServer(new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort()))
        .requestHandler(router)
        .listen()
        .onSuccess(s -> server = s);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
