package com.scairelay.http;

import io.vertx.ext.web.RoutingContext;

/**
 * Who made a request that a {@link Guard} let on: the user (recorded as {@code user_id} in audit
 * events) and the application acting for them, if any.
 */
public record Caller(String userId, String serviceAccount) {
  private static final String KEY = "caller";

  public void putInto(RoutingContext ctx) {
    ctx.put(KEY, this);
  }

  public static Caller of(RoutingContext ctx) {
    return ctx.get(KEY);
  }
}
