package com.scairelay.http;

import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One line per HTTP request once it ends ({@code log.requests}: off, debug or info): method, the
 * route's path template, status, latency and request id, e.g.
 * {@code POST /v1/bridges/:id/inbound 202 1.4 ms req=6cfcf29df58db76c}. Never the raw path (it holds ids)
 * nor the query string (it may hold a token); the same fields are key-value pairs for the JSON layout.
 */
public final class RequestLog {
  private static final Logger log = LoggerFactory.getLogger(RequestLog.class);
  private static final String UPGRADED = "request_log_upgraded";
  /** What a wildcard of a template may show of the path: the fixed names of inbound adapters ({@code slack/events}). */
  private static final Pattern PLAIN_REST = Pattern.compile("[a-z][a-z-]{0,30}(/[a-z][a-z-]{0,30}){0,2}");

  private final Router router;
  private final Level level;
  private volatile List<Template> templates;

  private RequestLog(Router router, Level level) {
    this.router = router;
    this.level = level;
  }

  /** Logs every request {@code router} handles at {@code setting} (off: nothing is added to the hot path). */
  public static void install(Router router, String setting) {
    if (setting.equals("off")) {
      return;
    }
    RequestLog requests = new RequestLog(router, setting.equals("debug") ? Level.DEBUG : Level.INFO);
    if (!log.isEnabledForLevel(requests.level)) {
      return;
    }
    router.route().handler(requests::started);
  }

  /**
   * A request that became a WebSocket has no answer to end: its route says so once the handshake is done,
   * and the line shows status 101 and the time to the handshake.
   */
  public static void upgraded(RoutingContext ctx) {
    Runnable line = ctx.get(UPGRADED);
    if (line != null) {
      line.run();
    }
  }

  private void started(RoutingContext ctx) {
    long started = System.nanoTime();
    ctx.addEndHandler(ended -> ended(ctx, started, ended.succeeded() ? Integer.toString(ctx.response().getStatusCode()) : null));
    if ("websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      ctx.put(UPGRADED, (Runnable) () -> ended(ctx, started, "101"));
    }
    ctx.next();
  }

  /** {@code status} null: the connection closed before the answer ended. */
  private void ended(RoutingContext ctx, long started, String status) {
    long micros = (System.nanoTime() - started) / 1_000;
    String latency = micros / 1_000 + "." + micros % 1_000 / 100;
    String method = ctx.request().method().name();
    String route = template(ctx);
    String shown = status == null ? "-" : status;
    String requestId = RequestIds.of(ctx);
    log.atLevel(level)
        .addKeyValue("method", method).addKeyValue("route", route).addKeyValue("status", shown)
        .addKeyValue("latency_ms", latency).addKeyValue("request_id", requestId)
        .log("{} {} {} {} ms req={}{}", method, route, shown, latency, requestId, status == null ? " (closed before the answer ended)" : "");
  }

  /**
   * The template of the route that answered; when a failure handler answered, the first template the path
   * matches; {@code -} when none does (a 404) or the path cannot be decoded (a bad %-escape).
   */
  private String template(RoutingContext ctx) {
    Route current = ctx.currentRoute();
    if (current != null && current.getPath() != null && current.isExactPath()) {
      return current.getPath();
    }
    String path;
    try {
      path = ctx.normalizedPath();
    } catch (IllegalArgumentException undecodable) {
      return "-";
    }
    if (current != null && current.getPath() != null) {
      return Template.of(current).render(path);
    }
    for (Template template : templates()) {
      if (template.matches(path)) {
        return template.render(path);
      }
    }
    return "-";
  }

  private List<Template> templates() {
    List<Template> known = templates;
    if (known == null) {
      known = router.getRoutes().stream().filter(r -> r.getPath() != null).map(Template::of).toList();
      templates = known;
    }
    return known;
  }

  /**
   * A route's path as mounted: segments, {@code :name} for a parameter; a {@code prefix} route (mounted
   * with a trailing {@code *}) takes any rest.
   */
  private record Template(String path, String[] segments, boolean prefix) {
    static Template of(Route route) {
      String path = route.getPath();
      boolean prefix = !route.isExactPath() && path.endsWith("/");
      String fixed = prefix ? path.substring(0, path.length() - 1) : path;
      return new Template(fixed, fixed.split("/", -1), prefix);
    }

    boolean matches(String requestPath) {
      String[] parts = requestPath.split("/", -1);
      if (prefix ? parts.length <= segments.length : parts.length != segments.length) {
        return false;
      }
      for (int i = 0; i < segments.length; i++) {
        boolean parameter = segments[i].startsWith(":");
        if (parameter ? parts[i].isEmpty() : !segments[i].equals(parts[i])) {
          return false;
        }
      }
      return true;
    }

    /** The template, the rest of a prefix route shown when it is a plain name, {@code *} otherwise. */
    String render(String requestPath) {
      if (!prefix) {
        return path;
      }
      String[] parts = requestPath.split("/", segments.length + 1);
      String rest = parts.length > segments.length ? parts[segments.length] : "";
      return path + "/" + (PLAIN_REST.matcher(rest).matches() ? rest : "*");
    }
  }
}
