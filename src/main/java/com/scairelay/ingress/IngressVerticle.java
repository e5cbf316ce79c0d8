package com.scairelay.ingress;

import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.http.RequestIds;
import com.scairelay.http.RequestLog;
import com.scairelay.http.Routes;
import com.scairelay.rooms.RoomRoutes;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.TimeoutHandler;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The HTTP side of a node: one instance per event loop, all listening on the same port. Stateless
 * apart from its own {@link EventLog}, which group-commits what this event loop receives. Mounts the
 * routes the node assembled, given that event log, then the one problem handler.
 */
public final class IngressVerticle extends VerticleBase {
  private static final Set<HttpMethod> BODY_METHODS = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH);

  private final RelayConfig config;
  private final Function<Vertx, EventLog> eventLogs;
  private final Function<EventLog, List<Routes>> routes;
  private HttpServer server;

  /**
   * @param eventLogs makes this event loop's event log
   * @param routes    the routes to mount, given that event log
   */
  public IngressVerticle(RelayConfig config, Function<Vertx, EventLog> eventLogs, Function<EventLog, List<Routes>> routes) {
    this.config = config;
    this.eventLogs = eventLogs;
    this.routes = routes;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    Deadlines deadlines = new Deadlines(vertx, config.headerTimeout(), config.bodyTimeout());
    router.route().handler(ctx -> {
      ctx.addEndHandler(v -> deadlines.answered(ctx.request()));
      ctx.next();
    });
    router.route().handler(RequestIds::assign);
    RequestLog.install(router, config.operations().requestLog());
    router.route().handler(new EdgeChecks());
    // Every request but a room's stream (a WebSocket lives on) gets an answer in bounded time.
    router.routeWithRegex("^(?!/v1/rooms/[^/]+/stream$).*").handler(TimeoutHandler.create(config.requestTimeout().toMillis(), 503));
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()).setMergeFormAttributes(false);
    router.route().handler(ctx -> {
      if (BODY_METHODS.contains(ctx.request().method())) {
        body.handle(ctx);
      } else {
        ctx.next();
      }
    });
    router.route().handler(ctx -> {
      deadlines.bodyRead(ctx.request());
      ctx.next();
    });
    routes.apply(eventLogs.apply(vertx)).forEach(r -> r.mount(router));
    ProblemHandler problems = new ProblemHandler();
    router.route().failureHandler(problems);
    // A path parameter that cannot be decoded (a bad %-escape) throws while the router matches routes;
    // the router answers that itself with a 400, and logs it at ERROR, unless it has a 400 handler.
    router.errorHandler(400, problems);
    router.errorHandler(404, problems);
    router.errorHandler(405, problems);
    return vertx.createHttpServer(new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort())
            .setIdleTimeout((int) config.idleTimeout().toSeconds())
            // Selected from what a WebSocket client offers; never its 'bearer.<token>' entry.
            .setWebSocketSubProtocols(List.of(RoomRoutes.STREAM_PROTOCOL))
            // No h2c: its protocol detection holds a new connection, unseen, until the first bytes arrive.
            .setHttp2ClearTextEnabled(false))
        .connectionHandler(deadlines::opened)
        .requestHandler(request -> {
          deadlines.requestStarted(request);
          router.handle(request);
        })
        .listen()
        .onSuccess(s -> server = s);
  }

  /**
   * Stops accepting connections and lets the requests being handled finish (each is bounded by
   * {@code http.request_timeout_ms}); streams are closed after that.
   */
  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture()
        : server.shutdown(config.requestTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
