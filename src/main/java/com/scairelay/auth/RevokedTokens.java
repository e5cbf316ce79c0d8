package com.scairelay.auth;

import com.scairelay.store.Purge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static com.scairelay.store.Times.utc;

/**
 * Access tokens of this relay revoked one by one, by their {@code jti}: so far the token an
 * authorization code was redeemed for, once that code is presented again. PostgreSQL keeps them until
 * the token would have expired; every node holds the live ones in memory (the JWT path stays without a
 * database call), learns of a new one at once through {@link #ADDRESS}, and reads them all again every
 * {@code auth.revocation_check_seconds} should that message not reach it.
 */
public final class RevokedTokens {
  public static final String ADDRESS = "relay.tokens.revoked";
  private static final String LIVE = "SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1";
  private static final String INSERT = "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
  private static final String PURGE = """
      DELETE FROM revoked_tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM revoked_tokens WHERE expires_at < $1 LIMIT $2))""";

  private final Vertx vertx;
  private final Pool pool;
  private final Clock clock;
  /** jti → when the token expires (epoch ms). */
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();

  public RevokedTokens(Vertx vertx, Pool pool, Clock clock) {
    this.vertx = vertx;
    this.pool = pool;
    this.clock = clock;
    vertx.eventBus().<JsonObject>consumer(ADDRESS, message -> revoked.put(message.body().getString("jti"), message.body().getLong("expires_at")));
  }

  /** Reads the live revocations again, and forgets the expired ones. */
  public Future<Void> load() {
    Instant now = clock.instant();
    return pool.preparedQuery(LIVE).execute(Tuple.of(utc(now))).map(rows -> {
      for (Row row : rows) {
        revoked.put(row.getString("jti"), row.getOffsetDateTime("expires_at").toInstant().toEpochMilli());
      }
      revoked.values().removeIf(expires -> expires <= now.toEpochMilli());
      return null;
    });
  }

  boolean isRevoked(String jti) {
    return jti != null && revoked.containsKey(jti);
  }

  /** Revokes the token {@code jti} (which expires at {@code expiresAt}) on every node, once it is stored. */
  Future<Void> revoke(String jti, Instant expiresAt) {
    return pool.preparedQuery(INSERT).execute(Tuple.of(jti, utc(expiresAt))).map(rows -> {
      // Here at once (the answer that follows must already see it), elsewhere from the message; no node rereads the table.
      revoked.put(jti, expiresAt.toEpochMilli());
      vertx.eventBus().publish(ADDRESS, new JsonObject().put("jti", jti).put("expires_at", expiresAt.toEpochMilli()));
      return null;
    });
  }

  /** Revocations of tokens that expired before {@code before}, for the retention purge. */
  public static Purge.Rows expiredBefore(Instant before) {
    return Purge.byStatement("revoked tokens", PURGE, utc(before));
  }
}
