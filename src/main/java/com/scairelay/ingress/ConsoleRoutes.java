package com.scairelay.ingress;

import com.scairelay.http.Routes;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The admin console: {@code GET /} is its page, {@code /console/*} its scripts and style sheet, all
 * from {@code console/} on the class path (packed in the jar). Every answer forbids what the page
 * never needs: scripts or styles from elsewhere or inline, framing, referrers, sniffed types. Files are
 * revalidated on each load ({@code no-cache} with {@code Last-Modified}), so an upgraded node's
 * console is never mixed with a cached older one. What is not a console file falls through to the
 * router's 404 problem.
 */
public final class ConsoleRoutes implements Routes {
  static final String CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
      + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

  @Override
  public void mount(Router router) {
    StaticHandler files = StaticHandler.create("console")
        .setIndexPage("index.html")
        .setDirectoryListing(false)
        .setIncludeHidden(false)
        .setCachingEnabled(true)
        .setDefaultContentEncoding("UTF-8");
    getOrHead(router.route("/")).handler(ConsoleRoutes::secured).handler(files);
    getOrHead(router.route("/console/*")).handler(ConsoleRoutes::secured).handler(files);
  }

  private static Route getOrHead(Route route) {
    return route.method(HttpMethod.GET).method(HttpMethod.HEAD);
  }

  /** The headers of every console answer, set as the answer's head is written (whoever writes it). */
  private static void secured(RoutingContext ctx) {
    ctx.addHeadersEndHandler(v -> {
      HttpServerResponse response = ctx.response();
      response.putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
          .putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Referrer-Policy", "no-referrer")
          .putHeader("Cache-Control", "no-cache");
    });
    ctx.next();
  }
}
