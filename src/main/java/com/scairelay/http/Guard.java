package com.scairelay.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * What a route asks of authentication: a handler that lets a request on only when its token carries
 * {@code scope}, leaving the {@link Caller} in the context. Implemented by {@code auth}.
 */
@FunctionalInterface
public interface Guard {
  Handler<RoutingContext> require(String scope);
}
