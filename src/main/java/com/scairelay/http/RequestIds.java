package com.scairelay.http;

import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.ThreadLocalRandom;

/** A short id per request, sent back as {@code X-Request-Id} and named in logs and problem answers. */
public final class RequestIds {
  private static final String KEY = "request_id";

  private RequestIds() {
  }

  public static void assign(RoutingContext ctx) {
    String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    ctx.put(KEY, id);
    ctx.response().putHeader("X-Request-Id", id);
    ctx.next();
  }

  public static String of(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id == null ? "-" : id;
  }
}
