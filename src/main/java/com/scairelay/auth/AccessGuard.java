package com.scairelay.auth;

import com.scairelay.ingress.ProblemException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks the bearer token of admin and API calls and the scope a route needs. Today the only
 * credential is the bootstrap admin token from configuration, which carries every scope.
 */
public final class AccessGuard {
  private static final String PRINCIPAL = "principal";
  private static final Principal BOOTSTRAP_ADMIN = new Principal("admin", Scopes.ALL);

  private final byte[] adminToken;

  public AccessGuard(String adminToken) {
    this.adminToken = adminToken.getBytes(StandardCharsets.UTF_8);
  }

  /** A route handler that lets the request on only with a valid token carrying {@code scope}. */
  public Handler<RoutingContext> require(String scope) {
    return ctx -> {
      Principal principal = authenticate(ctx.request().getHeader("Authorization"));
      if (!principal.has(scope)) {
        throw new ProblemException(403, "Forbidden", "this token lacks the scope '" + scope + "'");
      }
      ctx.put(PRINCIPAL, principal);
      ctx.next();
    };
  }

  public static Principal principal(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }

  private Principal authenticate(String header) {
    if (header == null || header.isBlank()) {
      throw ProblemException.unauthorized("an 'Authorization: Bearer <token>' header is required");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ProblemException.unauthorized("the Authorization header must use the Bearer scheme");
    }
    byte[] presented = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    if (MessageDigest.isEqual(presented, adminToken)) {
      return BOOTSTRAP_ADMIN;
    }
    throw ProblemException.unauthorized("the bearer token is not valid");
  }
}
