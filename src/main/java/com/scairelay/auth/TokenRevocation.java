package com.scairelay.auth;

import com.scairelay.http.ProblemException;
import com.scairelay.http.Scopes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What an access token already issued may still do, decided by the applications it names as they are
 * now: the token of a deleted application is refused, and a token keeps only those of its scopes that
 * its application still has (so a scope given back works again, but never one the token was not
 * issued with). Rotating a secret changes neither, so it revokes nothing. A token a person got by
 * signing in with an API key ({@code sub} {@code apikey:<id>}) is bound by that key the same way, and
 * a token revoked by itself ({@link RevokedTokens}) is refused.
 *
 * <p>A token names its application in {@code client_id}; the built-in client {@code console} has no row
 * and is never revoked (a token it got is bound by what the person who signed in could grant). An exchanged token ({@code act}) also names
 * its subject in {@code sub}; when that is an application of this relay, the token is bound by it too.
 *
 * <p>PostgreSQL is the truth. Each node keeps an application's standing for at most
 * {@code auth.revocation_check_seconds} (measured with the node's clock), shared by every event loop,
 * so the JWT path stays without a database call nearly always. A change of an application drops the
 * cached standing on every node at once through {@link #CHANGED_ADDRESS}, after the change commits;
 * the interval bounds how stale a node can be should that message be lost or not reach it.
 */
public final class TokenRevocation {
  public static final String CHANGED_ADDRESS = "relay.applications.changed";
  private static final Logger log = LoggerFactory.getLogger(TokenRevocation.class);
  /** Names that are no application are remembered only while the cache is smaller than this. */
  private static final int MAX_ENTRIES_FOR_UNKNOWN = 100_000;

  /** An application as its tokens see it. {@code scopes} is empty unless it exists and is not deleted. */
  record Standing(boolean exists, boolean deleted, Set<String> scopes) {
    static final Standing UNKNOWN = new Standing(false, false, Set.of());
    /** The built-in {@code console} client: no row, never deleted, every scope (its tokens are bound by the person's). */
    static final Standing BUILT_IN = new Standing(true, false, Scopes.ALL);

    boolean live() {
      return exists && !deleted;
    }
  }

  private record Entry(Standing standing, long loadedAtMillis) {
  }

  private final Vertx vertx;
  private final ApplicationStore store;
  private final ApiKeyStore apiKeys;
  private final RevokedTokens revokedTokens;
  private final Clock clock;
  private final long ttlMillis;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();

  public TokenRevocation(Vertx vertx, ApplicationStore store, ApiKeyStore apiKeys, RevokedTokens revokedTokens, Clock clock,
                         Duration checkInterval) {
    this.vertx = vertx;
    this.store = store;
    this.apiKeys = apiKeys;
    this.revokedTokens = revokedTokens;
    this.clock = clock;
    this.ttlMillis = checkInterval.toMillis();
    vertx.eventBus().<String>consumer(CHANGED_ADDRESS, message -> evict(message.body()));
  }

  /** The principal of a verified JWT of this relay as it stands now (see below), unless the token itself was revoked. */
  Future<Principal> admit(JsonObject claims) {
    if (revokedTokens.isRevoked(claims.getString("jti"))) {
      return Future.failedFuture(ProblemException.unauthorized(
          "the bearer token was revoked: the authorization code it was issued for was presented again"));
    }
    return admit(AccessGuard.fromClaims(claims), claims.getString("client_id"));
  }

  /**
   * {@code token} (the principal of a verified JWT naming {@code clientId}) as it stands now: the same
   * principal when nothing was taken away, one with fewer scopes, or a 401 {@link ProblemException}
   * when its application (or its subject's) was deleted. A 503 when neither the cache nor PostgreSQL
   * can tell.
   */
  Future<Principal> admit(Principal token, String clientId) {
    if (clientId == null) {
      return Future.failedFuture(ProblemException.unauthorized("the bearer token names no application (client_id)"));
    }
    String subject = token.userId();
    boolean ownSubject = subject == null || subject.equals(clientId);
    Standing client = OAuthClients.isConsole(clientId) ? Standing.BUILT_IN : fresh(clientId);
    Standing other = ownSubject ? null : fresh(subject);
    if (client != null && (ownSubject || other != null)) {
      return decide(token, client, subject, other);
    }
    Future<Standing> clientStanding = client != null ? Future.succeededFuture(client) : load(clientId);
    if (ownSubject) {
      return clientStanding.compose(c -> decide(token, c, subject, null));
    }
    return clientStanding.compose(c -> (other != null ? Future.succeededFuture(other) : load(subject)).compose(s -> decide(token, c, subject, s)));
  }

  /** Drops this node's copy now and tells every other node to drop theirs. Call after the change commits. */
  void changed(String clientId) {
    evict(clientId);
    vertx.eventBus().publish(CHANGED_ADDRESS, clientId);
  }

  private static Future<Principal> decide(Principal token, Standing client, String subjectId, Standing subject) {
    if (!client.live()) {
      return Future.failedFuture(ProblemException.unauthorized("the bearer token was revoked: its application was deleted"));
    }
    if (subject != null && subject.deleted()) {
      return Future.failedFuture(ProblemException.unauthorized(subjectId.startsWith(ApiKeyStore.SUBJECT_PREFIX)
          ? "the bearer token was revoked: the API key it was issued for was revoked"
          : "the bearer token was revoked: the application it acts for was deleted"));
    }
    Set<String> scopes = token.scopes();
    boolean subjectKeepsAll = subject == null || !subject.exists() || subject.scopes().containsAll(scopes);
    if (client.scopes().containsAll(scopes) && subjectKeepsAll) {
      return Future.succeededFuture(token);
    }
    Set<String> kept = new HashSet<>(scopes);
    kept.retainAll(client.scopes());
    if (subject != null && subject.exists()) {
      kept.retainAll(subject.scopes());
    }
    return Future.succeededFuture(new Principal(token.userId(), Set.copyOf(kept), token.serviceAccount()));
  }

  /** The cached standing while it is younger than the interval; a clock that went back counts as expired. */
  private Standing fresh(String id) {
    Entry entry = entries.get(id);
    if (entry == null) {
      return null;
    }
    long age = clock.millis() - entry.loadedAtMillis();
    return age >= 0 && age < ttlMillis ? entry.standing() : null;
  }

  /**
   * Reads the standing from PostgreSQL and caches it unless a change arrived meanwhile. Should the
   * database not answer, the last standing read is used (an application cannot change while its
   * database is down), and without one the request gets 503.
   */
  private Future<Standing> load(String id) {
    long seen = generation.get();
    long startedAt = clock.millis();
    Future<Standing> read = id.startsWith(ApiKeyStore.SUBJECT_PREFIX)
        ? apiKeys.standing(id.substring(ApiKeyStore.SUBJECT_PREFIX.length())) : store.standing(id);
    return read.map(standing -> {
      if (generation.get() == seen && (standing.exists() || entries.size() < MAX_ENTRIES_FOR_UNKNOWN)) {
        entries.put(id, new Entry(standing, startedAt));
      }
      return standing;
    }).recover(err -> {
      Entry last = entries.get(id);
      if (last != null) {
        log.warn("checking application {} for revocation failed ({}); using what was read {} ms ago", id, err.getMessage(),
            clock.millis() - last.loadedAtMillis());
        return Future.succeededFuture(last.standing());
      }
      return Future.failedFuture(new ProblemException(503, "Service Unavailable",
          "the token's application cannot be checked now: the database did not answer", Map.of("Retry-After", "1")));
    });
  }

  private void evict(String id) {
    generation.incrementAndGet();
    entries.remove(id);
  }
}
