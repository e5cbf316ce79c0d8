package com.scairelay.auth;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.store.Ids;
import com.scairelay.store.Purge;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import static com.scairelay.store.Times.utc;

/**
 * Authorization codes in PostgreSQL, so that any node of a cluster redeems what any node issued. Only
 * the SHA-256 of a code is stored. A code is redeemed once, by one atomic {@code UPDATE}: two nodes
 * redeeming the same code at once cannot both succeed. The redeemed code records the id of the token it
 * is redeemed for; presented again, it revokes that token (RFC 6749 §4.1.2), since whoever holds the
 * code twice may be the one who took it. Expired rows go with the retention purge.
 */
public final class AuthorizationCodes {
  private static final String INSERT = """
      INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, code_challenge, subject, scopes, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";
  private static final String REDEEM = """
      UPDATE authorization_codes SET used_at = $2, token_jti = $3, token_expires_at = $4
      WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
      RETURNING client_id, redirect_uri, code_challenge, subject, scopes""";
  private static final String REFUSED = "SELECT used_at, token_jti, token_expires_at FROM authorization_codes WHERE code_hash = $1";
  /** A used code stays while the token it was redeemed for lives, so that a replay still revokes that token. */
  private static final String PURGE = """
      DELETE FROM authorization_codes WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM authorization_codes WHERE expires_at < $1 AND (token_expires_at IS NULL OR token_expires_at < $1) LIMIT $2))""";

  /** What the person granted, bound to the client, its redirect URI and the PKCE challenge. */
  record Grant(String clientId, String redirectUri, String codeChallenge, String subject, List<String> scopes) {
  }

  /** A code that cannot be redeemed: unknown, used or expired (RFC 6749 {@code invalid_grant}). */
  static final class Refused extends RuntimeException {
    Refused(String description) {
      super(description, null, false, false);
    }
  }

  private final Pool pool;
  private final AuditLog audit;
  private final RevokedTokens revoked;
  private final Duration lifetime;

  public AuthorizationCodes(Pool pool, AuditLog audit, RevokedTokens revoked, Duration lifetime) {
    this.pool = pool;
    this.audit = audit;
    this.revoked = revoked;
    this.lifetime = lifetime;
  }

  /** Stores a new code for {@code grant}, with its audit event in the same transaction; answers the code. */
  Future<String> issue(Grant grant, Instant now, AuditEvent event) {
    String code = "ac_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
    Tuple row = Tuple.tuple(List.of(Buffer.buffer(Hashes.sha256(code)), grant.clientId(), grant.redirectUri(), grant.codeChallenge(),
        grant.subject(), grant.scopes().toArray(String[]::new), utc(now), utc(now.plus(lifetime))));
    return audit.changing(event, tx -> tx.preparedQuery(INSERT).execute(row)).map(code);
  }

  /**
   * Marks the code used for the token {@code jti} (expiring at {@code tokenExpires}) and answers its
   * grant; fails with {@link Refused} when it is unknown, used (revoking the token it was used for) or expired.
   */
  Future<Grant> redeem(String code, Instant now, String jti, Instant tokenExpires) {
    Buffer hash = Buffer.buffer(Hashes.sha256(code));
    return pool.preparedQuery(REDEEM).execute(Tuple.tuple(List.of(hash, utc(now), jti, utc(tokenExpires)))).compose(rows -> {
      if (rows.size() == 0) {
        return pool.preparedQuery(REFUSED).execute(Tuple.of(hash)).compose(this::refused);
      }
      Row row = rows.iterator().next();
      return Future.succeededFuture(new Grant(row.getString("client_id"), row.getString("redirect_uri"), row.getString("code_challenge"),
          row.getString("subject"), Arrays.asList(row.getArrayOfStrings("scopes"))));
    });
  }

  /** Why a code was not redeemed; a used one revokes the token it was redeemed for first. */
  private <T> Future<T> refused(RowSet<Row> found) {
    if (found.size() == 0) {
      return Future.failedFuture(new Refused("the authorization code is unknown (or expired and removed)"));
    }
    Row code = found.iterator().next();
    if (code.getValue("used_at") == null) {
      return Future.failedFuture(new Refused("the authorization code expired; codes live " + lifetime.toSeconds() + " seconds"));
    }
    String jti = code.getString("token_jti");
    Future<Void> revoking = jti == null ? Future.succeededFuture()
        : revoked.revoke(jti, code.getOffsetDateTime("token_expires_at").toInstant());
    return revoking.compose(v -> Future.failedFuture(new Refused(
        "the authorization code was used already; a code is redeemed once, and the token issued for it is now revoked")));
  }

  /** Codes that expired before {@code before}, for the retention purge. */
  public static Purge.Rows expiredBefore(Instant before) {
    return Purge.byStatement("authorization codes", PURGE, utc(before));
  }
}
