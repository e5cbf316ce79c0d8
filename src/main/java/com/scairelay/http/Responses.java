package com.scairelay.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes a JSON answer. */
public final class Responses {
  private Responses() {
  }

  /** Writes the answer unless one was written already (a request answered 503 by its timeout). */
  public static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().headWritten()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
