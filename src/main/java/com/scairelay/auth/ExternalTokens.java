package com.scairelay.auth;

import com.scairelay.config.RelayConfig;
import com.scairelay.http.ProblemException;
import com.scairelay.http.Scopes;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Access tokens of the external OpenID Connect issuer {@code auth.oidc_issuer}: JWTs verified against
 * the issuer's JWK set, fetched (from {@code auth.oidc_jwks_url}, or the {@code jwks_uri} of its
 * discovery document) with a {@link WebClient} and kept. A token naming a key not in the set fetches
 * it again, at most once per {@link #REFETCH_AFTER_SUCCESS} (a failed fetch may be retried after
 * {@link #REFETCH_AFTER_FAILURE}), measured with the node's clock; one fetch at a time serves every
 * event loop. {@code exp} and {@code nbf} are checked with the node's clock and {@link #LEEWAY}.
 *
 * <p>The principal is the token's {@code sub}; its scopes are the relay scopes among the values of
 * {@code auth.oidc_scopes_claim}; {@code azp}, when it names another party, is its service account.
 * The subjects this relay gives its own principals ({@code admin}, {@code apikey:…}) are refused, so an
 * issuer's user can never be taken for the bootstrap admin or an API key in the audit log or by revocation.
 */
final class ExternalTokens {
  private static final Logger log = LoggerFactory.getLogger(ExternalTokens.class);
  static final Duration REFETCH_AFTER_SUCCESS = Duration.ofSeconds(30);
  static final Duration REFETCH_AFTER_FAILURE = Duration.ofSeconds(5);
  static final Duration LEEWAY = Duration.ofSeconds(60);
  private static final String DISCOVERY = "/.well-known/openid-configuration";

  private final Vertx vertx;
  private final WebClient client;
  private final RelayConfig.Oidc config;
  private final String issuer;
  private final Clock clock;
  private final long timeoutMillis;
  private volatile IssuerKeys keys;
  private volatile String jwksUrl;
  /** When the last fetch started (node clock, ms), and whether it failed; Long.MIN_VALUE: never. */
  private volatile long lastFetchMillis = Long.MIN_VALUE;
  private volatile boolean lastFetchFailed;
  private final AtomicReference<Future<IssuerKeys>> fetching = new AtomicReference<>();
  private final AtomicBoolean failing = new AtomicBoolean();

  ExternalTokens(Vertx vertx, WebClient client, RelayConfig.Oidc config, Clock clock, Duration fetchTimeout) {
    this.vertx = vertx;
    this.client = client;
    this.config = config;
    this.issuer = config.issuer().orElseThrow();
    this.clock = clock;
    this.timeoutMillis = fetchTimeout.toMillis();
    this.jwksUrl = config.jwksUrl().orElse(null);
  }

  /** True when {@code token}'s (unverified) {@code iss} is this issuer: the token is this class's to verify. */
  boolean names(String token) {
    JsonObject claims = part(token, 1);
    return claims != null && issuer.equals(claims.getValue("iss"));
  }

  /** The principal of a valid token of the issuer; a 401 {@link ProblemException} saying why for any other. */
  Future<Principal> verify(String token) {
    String[] parts = token.split("\\.", -1);
    JsonObject header = part(token, 0);
    JsonObject claims = part(token, 1);
    if (parts.length != 3 || header == null || claims == null) {
      return refused("the bearer token is not a well-formed JWT");
    }
    String alg = header.getValue("alg") instanceof String a ? a : null;
    if (!IssuerKeys.supported(alg)) {
      return refused("the token's algorithm '" + alg + "' is not accepted: RS256, RS384, RS512, ES256 or ES384");
    }
    String kid = header.getValue("kid") instanceof String k ? k : null;
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      return refused("the token's signature is not base64url");
    }
    byte[] input = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    return keysFor(kid).compose(set -> {
      if (kid != null && !set.knows(kid)) {
        return refused("the token's key '" + kid + "' is not among the issuer's keys");
      }
      if (!set.verifies(alg, kid, input, signature)) {
        return refused("the token's signature does not verify with the issuer's keys");
      }
      return admitted(claims);
    });
  }

  private Future<Principal> admitted(JsonObject claims) {
    long now = clock.instant().getEpochSecond();
    long leeway = LEEWAY.toSeconds();
    if (!(claims.getValue("exp") instanceof Number exp)) {
      return refused("the token has no expiry (exp)");
    }
    if (now > exp.longValue() + leeway) {
      return refused("the token has expired");
    }
    if (claims.getValue("nbf") instanceof Number nbf && now < nbf.longValue() - leeway) {
      return refused("the token is not valid yet (nbf)");
    }
    if (config.audience().isPresent() && !audiences(claims.getValue("aud")).contains(config.audience().get())) {
      return refused("the token is not meant for this relay: its audience (aud) does not name " + config.audience().get());
    }
    if (!(claims.getValue("sub") instanceof String sub) || sub.isBlank()) {
      return refused("the token names no subject (sub)");
    }
    if (AccessGuard.reservedSubject(sub)) {
      return refused("the token's subject '" + sub + "' is reserved on this relay (admin, apikey:…): the issuer cannot name it");
    }
    String azp = claims.getValue("azp") instanceof String a && !a.isBlank() && !a.equals(sub) ? a : null;
    return Future.succeededFuture(new Principal(sub, scopes(claims.getValue(config.scopesClaim())), azp));
  }

  /** The relay scopes among a claim's values: a space-separated string or an array of strings; others are ignored. */
  private static Set<String> scopes(Object claim) {
    Set<String> values = new LinkedHashSet<>();
    if (claim instanceof String text) {
      values.addAll(java.util.Arrays.asList(text.trim().split("\\s+")));
    } else if (claim instanceof JsonArray array) {
      array.forEach(v -> {
        if (v instanceof String s) {
          values.add(s);
        }
      });
    }
    values.retainAll(Scopes.ALL);
    return Set.copyOf(values);
  }

  private static Set<Object> audiences(Object aud) {
    if (aud instanceof JsonArray array) {
      return new LinkedHashSet<>(array.getList());
    }
    return aud == null ? Set.of() : Set.of(aud);
  }

  /** The key set, fetched again first when it lacks {@code kid} (or is missing) and a fetch is allowed now. */
  private Future<IssuerKeys> keysFor(String kid) {
    IssuerKeys current = keys;
    boolean stale = current == null || (kid != null && !current.knows(kid));
    if (!stale) {
      return Future.succeededFuture(current);
    }
    if (fetchAllowed()) {
      return onCallersContext(fetch());
    }
    return current != null ? Future.succeededFuture(current)
        : refused("the issuer's keys could not be fetched; try again shortly");
  }

  private boolean fetchAllowed() {
    long last = lastFetchMillis;
    if (last == Long.MIN_VALUE || fetching.get() != null) {
      return true;
    }
    long since = clock.millis() - last;
    return since < 0 || since >= (lastFetchFailed ? REFETCH_AFTER_FAILURE : REFETCH_AFTER_SUCCESS).toMillis();
  }

  /** One fetch at a time; a caller arriving while one runs waits for it. */
  private Future<IssuerKeys> fetch() {
    Promise<IssuerKeys> mine = Promise.promise();
    Future<IssuerKeys> running = fetching.compareAndExchange(null, mine.future());
    if (running != null) {
      return running;
    }
    lastFetchMillis = clock.millis();
    jwksUrl().compose(this::getJson).map(IssuerKeys::of).onComplete(ar -> {
      if (ar.succeeded()) {
        keys = ar.result();
        lastFetchFailed = false;
        if (failing.compareAndSet(true, false)) {
          log.info("the keys of OIDC issuer {} could be fetched again ({} keys)", issuer, ar.result().size());
        }
      } else {
        lastFetchFailed = true;
        if (failing.compareAndSet(false, true)) {
          log.warn("fetching the keys of OIDC issuer {} failed: {}; its tokens are refused until a fetch succeeds", issuer,
              ar.cause().getMessage());
        }
      }
      fetching.set(null);
      mine.handle(ar.failed() ? Future.failedFuture(ProblemException.unauthorized("the issuer's keys could not be fetched; try again shortly"))
          : Future.succeededFuture(ar.result()));
    });
    return mine.future();
  }

  /** The fetch completes on whichever event loop started it; each waiting request goes on on its own. */
  private <T> Future<T> onCallersContext(Future<T> future) {
    Context caller = vertx.getOrCreateContext();
    Promise<T> here = Promise.promise();
    future.onComplete(ar -> caller.runOnContext(v -> here.handle(ar)));
    return here.future();
  }

  private Future<String> jwksUrl() {
    if (jwksUrl != null) {
      return Future.succeededFuture(jwksUrl);
    }
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    return getJson(base + DISCOVERY).map(document -> {
      if (!issuer.equals(document.getValue("issuer"))) {
        throw new IllegalStateException("the discovery document names issuer " + document.getValue("issuer") + ", not " + issuer);
      }
      if (!(document.getValue("jwks_uri") instanceof String uri) || uri.isBlank()) {
        throw new IllegalStateException("the discovery document has no jwks_uri");
      }
      jwksUrl = uri;
      return uri;
    });
  }

  private Future<JsonObject> getJson(String url) {
    Future<HttpResponse<Buffer>> answer;
    try {
      answer = client.getAbs(url).timeout(timeoutMillis).putHeader("Accept", "application/json").send();
    } catch (RuntimeException e) {
      return Future.failedFuture(new IllegalStateException(url + " is not a URL the client can fetch: " + e.getMessage()));
    }
    return answer.map(response -> {
      if (response.statusCode() != 200) {
        throw new IllegalStateException(url + " answered " + response.statusCode());
      }
      return response.bodyAsJsonObject();
    });
  }

  private static <T> Future<T> refused(String detail) {
    return Future.failedFuture(ProblemException.unauthorized(detail));
  }

  /** Part {@code index} of a JWT as JSON, or null. */
  private static JsonObject part(String token, int index) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return null;
    }
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[index]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
