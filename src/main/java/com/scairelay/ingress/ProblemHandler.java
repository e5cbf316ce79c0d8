package com.scairelay.ingress;

import com.scairelay.eventlog.RoomNotFound;
import com.scairelay.eventlog.StoreUnavailable;
import com.scairelay.eventlog.Unstorable;
import com.scairelay.http.ProblemException;
import com.scairelay.http.RequestIds;
import io.vertx.pgclient.PgException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/** The one place that turns a failed route into an {@code application/problem+json} answer. */
public final class ProblemHandler implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.response().ended()) {
      // Answered already (503 by the request timeout): what the route did since is of no one's concern.
      return;
    }
    if (ctx.response().headWritten()) {
      log.warn("request {} {} failed after its answer began: {}", RequestIds.of(ctx), ctx.request().path(), String.valueOf(ctx.failure()));
      ctx.response().reset();
      return;
    }
    ProblemException problem = toProblem(ctx);
    problem.headers().forEach(ctx.response()::putHeader);
    write(ctx, problem);
  }

  static void write(RoutingContext ctx, ProblemException problem) {
    JsonObject body = new JsonObject()
        .put("type", "about:blank")
        .put("title", problem.title())
        .put("status", problem.status())
        .put("detail", problem.detail())
        .put("request_id", RequestIds.of(ctx));
    ctx.response()
        .setStatusCode(problem.status())
        .putHeader("Content-Type", "application/problem+json")
        .end(body.encode());
  }

  private static ProblemException toProblem(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ProblemException problem) {
      return problem;
    }
    if (failure instanceof RoomNotFound missing) {
      return ProblemException.notFound(missing.getMessage());
    }
    if (failure instanceof Unstorable refused) {
      return ProblemException.badRequest(refused.getMessage());
    }
    if (failure instanceof StoreUnavailable busy) {
      return new ProblemException(503, "Service Unavailable", busy.getMessage(),
          Map.of("Retry-After", Integer.toString(busy.retryAfterSeconds())));
    }
    int status = ctx.statusCode();
    if (failure == null && status == 503) {
      return unavailable("the node could not answer in time (http.request_timeout_ms); nothing is lost, try again");
    }
    if (failure == null && status >= 400) {
      return new ProblemException(status, HttpResponseStatus.valueOf(status).reasonPhrase(), detailFor(status, ctx));
    }
    if (isStorageFailure(failure)) {
      log.warn("request {} {} {}: storage unavailable: {}", RequestIds.of(ctx), ctx.request().method(), ctx.request().path(),
          failure.getClass().getSimpleName());
      return unavailable("storage is unavailable; nothing was changed, try again");
    }
    log.error("request {} {} {} failed", RequestIds.of(ctx), ctx.request().method(), ctx.request().path(), failure);
    return new ProblemException(500, "Internal Server Error",
        "the node could not complete this request; it is logged under request id " + RequestIds.of(ctx));
  }

  private static ProblemException unavailable(String detail) {
    return new ProblemException(503, "Service Unavailable", detail, Map.of("Retry-After", "1"));
  }

  /**
   * PostgreSQL did not answer, refused, dropped the connection or is shutting down: the request may
   * be tried again, and the answer names no host.
   */
  static boolean isStorageFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof PgException pg) {
        String state = pg.getSqlState() == null ? "" : pg.getSqlState();
        return state.startsWith("08") || state.startsWith("53") || state.startsWith("57");
      }
      if (t instanceof java.net.ConnectException || t instanceof io.vertx.sqlclient.ClosedConnectionException
          || t instanceof java.util.concurrent.TimeoutException || t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof io.vertx.core.http.HttpClosedException
          || (t instanceof io.vertx.core.VertxException && String.valueOf(t.getMessage()).startsWith("Timeout"))) {
        return true;
      }
      String name = t.getClass().getName();
      if (name.contains("NoStackTraceTimeoutException") || name.contains("ConnectionPool") || name.endsWith("TimeoutException")) {
        return true;
      }
    }
    return false;
  }

  private static String detailFor(int status, RoutingContext ctx) {
    return switch (status) {
      case 404 -> "no resource at " + ctx.request().path();
      case 405 -> ctx.request().method() + " is not allowed on " + ctx.request().path();
      case 413 -> "the request body is larger than the limit (http.max_body_bytes)";
      default -> HttpResponseStatus.valueOf(status).reasonPhrase();
    };
  }
}
