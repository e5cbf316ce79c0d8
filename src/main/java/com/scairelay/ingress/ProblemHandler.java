package com.scairelay.ingress;

import com.scairelay.eventlog.RoomNotFound;
import com.scairelay.eventlog.StoreUnavailable;
import com.scairelay.eventlog.Unstorable;
import com.scairelay.http.ProblemException;
import com.scairelay.http.RequestIds;
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
    if (failure == null && status >= 400) {
      return new ProblemException(status, HttpResponseStatus.valueOf(status).reasonPhrase(), detailFor(status, ctx));
    }
    log.error("request {} {} {} failed", RequestIds.of(ctx), ctx.request().method(), ctx.request().path(), failure);
    return new ProblemException(500, "Internal Server Error",
        "the node could not complete this request; it is logged under request id " + RequestIds.of(ctx));
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
