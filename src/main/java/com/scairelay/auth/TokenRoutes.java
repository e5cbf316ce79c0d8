package com.scairelay.auth;

import com.scairelay.http.Routes;
import com.scairelay.store.Ids;
import java.time.Clock;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.audit.AuditLog;
import com.scairelay.http.Guard;
import com.scairelay.http.Scopes;
import com.scairelay.http.ProblemException;
import com.scairelay.audit.Category;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;

import java.util.Set;

import static com.scairelay.http.Responses.json;

/**
 * {@code POST /oauth/token} (RFC 6749 client credentials and authorization code with PKCE, RFC 8693
 * token exchange, errors in the RFC 6749 format), {@code GET /.well-known/jwks.json}, and {@code POST /v1/admin/signing-keys/rotate}.
 */
public record TokenRoutes(Guard guard, TokenService tokens, ApplicationStore applications, OAuthClients clients,
                          AuthorizationCodes codes, TokenRevocation revocation, AuditLog audit, FailureAuditLimiter failureAudits,
                          Clock clock) implements Routes {
  static final String AUTHORIZATION_CODE = "authorization_code";
  /** A revocation outlives its token by this much: the token's exp is taken a moment after the code is redeemed. */
  private static final Duration REVOCATION_MARGIN = Duration.ofMinutes(1);
  static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

  /** An RFC 6749 §5.2 error. */
  private static final class OAuthError extends RuntimeException {
    final int status;
    final String error;

    OAuthError(int status, String error, String description) {
      super(description, null, false, false);
      this.status = status;
      this.error = error;
    }
  }

  @Override
  public void mount(Router router) {
    router.post("/oauth/token").handler(this::token).failureHandler(this::unreadableForm);
    router.get("/.well-known/jwks.json").handler(ctx -> json(ctx, 200, tokens.jwks()));
    router.post("/v1/admin/signing-keys/rotate").handler(guard.require(Scopes.ADMIN_WRITE)).handler(ctx ->
        tokens.rotate().onSuccess(kid -> json(ctx, 200, new JsonObject().put("kid", kid))).onFailure(ctx::fail));
  }

  /** A form body that could not be decoded ({@link FormBody}): 400 invalid_request, the RFC 6749 way. */
  private void unreadableForm(RoutingContext ctx) {
    if (FormBody.undecodable(ctx)) {
      ctx.response().putHeader("Cache-Control", "no-store");
      json(ctx, 400, new JsonObject().put("error", "invalid_request")
          .put("error_description", "the form body has a malformed %-escape; each must be % and two hex digits"));
    } else {
      ctx.next();
    }
  }

  private void token(RoutingContext ctx) {
    FormBody.read(ctx);
    MultiMap form = ctx.request().formAttributes();
    String grant = form.get("grant_type");
    Instant now = clock.instant();
    Future<JsonObject> answer;
    try {
      form.forEach(parameter -> requireText(parameter.getKey(), parameter.getValue()));
      // The console is a public client: it sends its client_id only, and PKCE proves it is the one that asked.
      boolean console = AUTHORIZATION_CODE.equals(grant) && OAuthClients.isConsole(form.get("client_id"))
          && ctx.request().getHeader("Authorization") == null;
      String[] client = console ? null : clientCredentials(ctx, form);
      if (client != null) {
        requireText("client_id", client[0]);
        requireText("client_secret", client[1]);
      }
      if (grant == null || grant.isBlank()) {
        throw new OAuthError(400, "invalid_request", "grant_type is required");
      }
      if (!grant.equals("client_credentials") && !grant.equals(AUTHORIZATION_CODE) && !grant.equals(TOKEN_EXCHANGE)) {
        throw new OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials, authorization_code or " + TOKEN_EXCHANGE);
      }
      Future<Application> authenticated = console ? Future.succeededFuture(clients.console())
          : applications.authenticate(client[0], client[1], now)
              .compose(found -> found.isPresent() ? Future.succeededFuture(found.get()) : clientFailed(ctx, client[0], now));
      answer = authenticated.compose(app -> switch (grant) {
        case "client_credentials" -> clientCredentialsToken(app, form);
        case AUTHORIZATION_CODE -> authorizationCodeToken(app, form, now);
        default -> exchangedToken(app, form);
      });
    } catch (OAuthError e) {
      answer = Future.failedFuture(e);
    }
    answer.onSuccess(body -> {
      ctx.response().putHeader("Cache-Control", "no-store");
      json(ctx, 200, body);
    }).onFailure(err -> {
      if (err instanceof OAuthError e) {
        ctx.response().putHeader("Cache-Control", "no-store");
        json(ctx, e.status, new JsonObject().put("error", e.error).put("error_description", e.getMessage()));
      } else {
        ctx.fail(err);
      }
    });
  }

  /** A NUL or control character is never part of a real parameter, and PostgreSQL cannot compare it. */
  private static void requireText(String parameter, String value) {
    if (value != null && value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new OAuthError(400, "invalid_request", "parameter '" + parameter + "' has a NUL or other control character");
    }
  }

  /** HTTP Basic (form-encoded id and secret, RFC 6749 §2.3.1) or client_id and client_secret in the body. */
  private static String[] clientCredentials(RoutingContext ctx, MultiMap form) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
      try {
        String decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        if (colon > 0) {
          return new String[] {URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
              URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)};
        }
      } catch (IllegalArgumentException ignored) {
        // answered below
      }
      throw new OAuthError(401, "invalid_client", "the Basic credentials are malformed");
    }
    String id = form.get("client_id");
    String secret = form.get("client_secret");
    if (id == null || secret == null) {
      throw new OAuthError(401, "invalid_client", "client authentication is required: HTTP Basic or client_id and client_secret");
    }
    return new String[] {id, secret};
  }

  /** 401 invalid_client, and an AUTHENTICATION audit event (bounded per client id like signature failures). */
  private <T> Future<T> clientFailed(RoutingContext ctx, String clientId, Instant now) {
    OAuthError error = new OAuthError(401, "invalid_client", "unknown client or wrong secret");
    if (failureAudits.admit("client:" + clientId, now).isEmpty()) {
      return Future.failedFuture(error);
    }
    JsonObject payload = new JsonObject().put("client_id", clientId)
        .put("remote_address", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress());
    return audit.record(audit.event(Category.AUTHENTICATION, "oauth.client_authentication_failed", null, clientId, payload))
        .transform(ar -> Future.failedFuture(error));
  }

  private Future<JsonObject> clientCredentialsToken(Application app, MultiMap form) {
    Set<String> scopes = requested(form.get("scope"), Set.copyOf(app.scopes()));
    JsonObject claims = new JsonObject().put("sub", app.clientId()).put("client_id", app.clientId()).put("scope", String.join(" ", scopes));
    return issued(app, claims, scopes, "client_credentials", null);
  }

  /**
   * RFC 6749 §4.1.3 with RFC 7636: the code is redeemed (once, whatever follows), then must have been
   * issued to this client for this redirect URI and challenge. The token names the person ({@code sub})
   * and the application ({@code client_id}, {@code azp}), with the scopes granted that the application
   * still has.
   */
  private Future<JsonObject> authorizationCodeToken(Application app, MultiMap form, Instant now) {
    String code = form.get("code");
    String redirectUri = form.get("redirect_uri");
    String verifier = form.get("code_verifier");
    for (String[] parameter : new String[][] {{"code", code}, {"redirect_uri", redirectUri}, {"code_verifier", verifier}}) {
      if (parameter[1] == null || parameter[1].isEmpty()) {
        return Future.failedFuture(new OAuthError(400, "invalid_request", parameter[0] + " is required"));
      }
    }
    // The token's id is bound to the code as it is redeemed, so a second use of the code can revoke it.
    String jti = Ids.newId("tok");
    Instant tokenExpires = now.plusSeconds(app.tokenLifetime()).plus(REVOCATION_MARGIN);
    return codes.redeem(code, now, jti, tokenExpires)
        .recover(err -> Future.failedFuture(err instanceof AuthorizationCodes.Refused ? invalidGrant(err.getMessage()) : err))
        .compose(grant -> {
          if (!grant.clientId().equals(app.clientId())) {
            return Future.failedFuture(invalidGrant("the code was issued to another client"));
          }
          if (!grant.redirectUri().equals(redirectUri)) {
            return Future.failedFuture(invalidGrant("redirect_uri is not the one the code was requested with"));
          }
          if (!Pkce.wellFormed(verifier)) {
            return Future.failedFuture(invalidGrant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~"));
          }
          if (!Pkce.verifies(verifier, grant.codeChallenge())) {
            return Future.failedFuture(invalidGrant("code_verifier does not match the code_challenge (S256)"));
          }
          Set<String> scopes = new LinkedHashSet<>(grant.scopes());
          scopes.retainAll(app.scopes());
          if (scopes.isEmpty()) {
            return Future.failedFuture(invalidGrant("the application no longer has any of the scopes granted"));
          }
          JsonObject claims = new JsonObject().put("sub", grant.subject()).put("client_id", app.clientId()).put("azp", app.clientId())
              .put("scope", String.join(" ", scopes)).put("jti", jti);
          return issued(app, claims, scopes, AUTHORIZATION_CODE, grant.subject());
        });
  }

  private static OAuthError invalidGrant(String description) {
    return new OAuthError(400, "invalid_grant", description);
  }

  /** RFC 8693: a token for the subject of {@code subject_token}, acting as this application ({@code act}). */
  private Future<JsonObject> exchangedToken(Application app, MultiMap form) {
    String subjectToken = form.get("subject_token");
    if (subjectToken == null || subjectToken.isBlank()) {
      return Future.failedFuture(new OAuthError(400, "invalid_request", "subject_token is required"));
    }
    String type = form.get("subject_token_type");
    if (type != null && !type.equals(ACCESS_TOKEN_TYPE)) {
      return Future.failedFuture(new OAuthError(400, "invalid_request", "subject_token_type must be " + ACCESS_TOKEN_TYPE));
    }
    return tokens.verify(subjectToken)
        .recover(err -> Future.failedFuture(new OAuthError(400, "invalid_grant", "the subject_token is not a valid token of this relay")))
        .compose(revocation::admit)
        .recover(err -> Future.failedFuture(err instanceof ProblemException problem && problem.status() == 401
            ? new OAuthError(400, "invalid_grant", "the subject_token is no longer valid: " + problem.detail()) : err))
        .compose(subject -> {
          Set<String> allowed = new LinkedHashSet<>(subject.scopes());
          allowed.retainAll(app.scopes());
          Set<String> scopes = requested(form.get("scope"), allowed);
          JsonObject claims = new JsonObject().put("sub", subject.userId()).put("client_id", app.clientId())
              .put("scope", String.join(" ", scopes)).put("act", new JsonObject().put("sub", app.clientId()));
          return issued(app, claims, scopes, TOKEN_EXCHANGE, subject.userId());
        });
  }

  private Future<JsonObject> issued(Application app, JsonObject claims, Set<String> scopes, String grant, String subject) {
    String token = tokens.issue(claims, Duration.ofSeconds(app.tokenLifetime()));
    JsonObject payload = new JsonObject().put("client_id", app.clientId()).put("grant_type", grant).put("scope", String.join(" ", scopes));
    if (subject != null) {
      payload.put("subject", subject);
    }
    JsonObject body = new JsonObject().put("access_token", token).put("token_type", "Bearer")
        .put("expires_in", app.tokenLifetime()).put("scope", String.join(" ", scopes));
    if (grant.equals(TOKEN_EXCHANGE)) {
      body.put("issued_token_type", ACCESS_TOKEN_TYPE);
    }
    return audit.record(audit.event(Category.AUTHENTICATION, "oauth.token_issued", subject, app.clientId(), payload)
            .withServiceAccount(subject != null ? app.clientId() : null))
        .map(body);
  }

  /** The requested scopes (space-separated), which must all be allowed; all allowed ones when none are asked for. */
  private static Set<String> requested(String scope, Set<String> allowed) {
    if (scope == null || scope.isBlank()) {
      return allowed;
    }
    Set<String> asked = new LinkedHashSet<>(Arrays.asList(scope.trim().split("\\s+")));
    List<String> refused = asked.stream().filter(s -> !allowed.contains(s)).toList();
    if (!refused.isEmpty()) {
      throw new OAuthError(400, "invalid_scope", "not allowed for this client: " + String.join(" ", refused));
    }
    return asked;
  }

}
