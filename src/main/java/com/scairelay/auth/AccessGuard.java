package com.scairelay.auth;

import com.scairelay.config.RelayConfig;
import com.scairelay.http.Scopes;
import com.scairelay.http.Guard;
import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks the bearer token of every API call and the scope its route needs. A token is one of: the
 * bootstrap admin token from configuration (every scope), a personal API key ({@code sak_…}), an
 * access token this relay issued (a JWT, verified locally with the signing keys, then held against
 * what its application may still do: {@link TokenRevocation}), or, when {@code auth.oidc_issuer} is
 * set, an access token of that OpenID Connect issuer ({@link ExternalTokens}). A WebSocket upgrade
 * without an Authorization header may carry the token as a subprotocol entry ({@link StreamBearer}).
 */
public final class AccessGuard implements Guard {
  public static final String API_KEY_PREFIX = "sak_";
  private static final Principal BOOTSTRAP_ADMIN = new Principal("admin", Scopes.ALL, null);

  /** Whether {@code sub} is one this relay gives its own principals: the bootstrap admin, an API key. */
  static boolean reservedSubject(String sub) {
    return sub.equals(BOOTSTRAP_ADMIN.userId()) || sub.startsWith(ApiKeyStore.SUBJECT_PREFIX);
  }

  private final byte[] adminToken;
  private final TokenService tokens;
  private final ApiKeyStore apiKeys;
  private final TokenRevocation revocation;
  private final Optional<ExternalTokens> external;

  AccessGuard(String adminToken, TokenService tokens, ApiKeyStore apiKeys, TokenRevocation revocation, Optional<ExternalTokens> external) {
    this.adminToken = adminToken.getBytes(StandardCharsets.UTF_8);
    this.tokens = tokens;
    this.apiKeys = apiKeys;
    this.revocation = revocation;
    this.external = external;
  }

  /** The guard of a node: trusts the external OpenID Connect issuer of {@code oidc} too, when one is set. */
  public static AccessGuard of(String adminToken, TokenService tokens, ApiKeyStore apiKeys, TokenRevocation revocation,
                               RelayConfig.Oidc oidc, Vertx vertx, WebClient client, Clock clock, Duration fetchTimeout) {
    Optional<ExternalTokens> external = oidc.enabled()
        ? Optional.of(new ExternalTokens(vertx, client, oidc, clock, fetchTimeout)) : Optional.empty();
    return new AccessGuard(adminToken, tokens, apiKeys, revocation, external);
  }

  /** A route handler that lets the request on only with a valid token carrying {@code scope}. */
  @Override
  public Handler<RoutingContext> require(String scope) {
    return ctx -> {
      HttpServerRequest request = ctx.request();
      // A malformed WebSocket bearer entry is refused here, before the upgrade.
      String authorization = StreamBearer.authorization(request);
      // Authentication may wait for the database: hold a request that is still open (a WebSocket upgrade).
      boolean hold = !request.isEnded();
      if (hold) {
        request.pause();
      }
      authenticate(authorization).onComplete(ar -> {
        if (hold) {
          request.resume();
        }
        if (ar.failed()) {
          ctx.fail(ar.cause());
        } else if (!ar.result().has(scope)) {
          ctx.fail(new ProblemException(403, "Forbidden", "this token lacks the scope '" + scope + "'"));
        } else {
          ar.result().caller().putInto(ctx);
          ctx.next();
        }
      });
    };
  }

  Future<Principal> authenticate(String header) {
    if (header == null || header.isBlank()) {
      return Future.failedFuture(ProblemException.unauthorized("an 'Authorization: Bearer <token>' header is required"));
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Future.failedFuture(ProblemException.unauthorized("the Authorization header must use the Bearer scheme"));
    }
    return authenticateToken(header.substring(7).trim());
  }

  /** The principal of a bearer token, however it was sent (a header, the consent page's form). */
  Future<Principal> authenticateToken(String token) {
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(ProblemException.unauthorized("a token is required"));
    }
    if (MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken)) {
      return Future.succeededFuture(BOOTSTRAP_ADMIN);
    }
    if (token.startsWith(API_KEY_PREFIX)) {
      return apiKeys.find(token).map(found -> found.orElseThrow(() -> ProblemException.unauthorized("the API key is not valid or was revoked")));
    }
    if (external.isPresent() && external.get().names(token)) {
      return external.get().verify(token);
    }
    return tokens.verify(token).transform(verified -> verified.succeeded()
        ? revocation.admit(verified.result())
        : Future.failedFuture(ProblemException.unauthorized("the bearer token is not valid (expired, tampered or not issued here)")));
  }

  static Principal fromClaims(JsonObject claims) {
    String scope = claims.getString("scope", "");
    Set<String> scopes = new HashSet<>(Arrays.asList(scope.isBlank() ? new String[0] : scope.split(" ")));
    // The party acting for the subject: an exchanged token's actor, or the application a person signed in to (azp).
    JsonObject act = claims.getJsonObject("act");
    String sub = claims.getString("sub");
    String azp = claims.getString("azp");
    String serviceAccount = act != null ? act.getString("sub") : azp != null && !azp.equals(sub) ? azp : null;
    return new Principal(sub, Set.copyOf(scopes), serviceAccount);
  }
}
