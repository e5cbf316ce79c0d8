package com.scairelay.auth;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.store.Ids;
import com.scairelay.store.Purge;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
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
 * redeeming the same code at once cannot both succeed. Expired rows go with the retention purge.
 */
public final class AuthorizationCodes {
  private static final String INSERT = """
      INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, code_challenge, subject, scopes, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";
  private static final String REDEEM = """
      UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
      RETURNING client_id, redirect_uri, code_challenge, subject, scopes, expires_at""";
  private static final String KNOWN = "SELECT 1 FROM authorization_codes WHERE code_hash = $1";
  private static final String PURGE = """
      DELETE FROM authorization_codes WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM authorization_codes WHERE expires_at < $1 LIMIT $2))""";

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
  private final Duration lifetime;

  public AuthorizationCodes(Pool pool, AuditLog audit, Duration lifetime) {
    this.pool = pool;
    this.audit = audit;
    this.lifetime = lifetime;
  }

  /** Stores a new code for {@code grant}, with its audit event in the same transaction; answers the code. */
  Future<String> issue(Grant grant, Instant now, AuditEvent event) {
    String code = "ac_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
    Tuple row = Tuple.tuple(List.of(Buffer.buffer(Hashes.sha256(code)), grant.clientId(), grant.redirectUri(), grant.codeChallenge(),
        grant.subject(), grant.scopes().toArray(String[]::new), utc(now), utc(now.plus(lifetime))));
    return audit.changing(event, tx -> tx.preparedQuery(INSERT).execute(row)).map(code);
  }

  /** Marks the code used and answers its grant; fails with {@link Refused} when it is unknown, used or expired. */
  Future<Grant> redeem(String code, Instant now) {
    Buffer hash = Buffer.buffer(Hashes.sha256(code));
    return pool.preparedQuery(REDEEM).execute(Tuple.of(hash, utc(now))).compose(rows -> {
      if (rows.size() == 0) {
        return pool.preparedQuery(KNOWN).execute(Tuple.of(hash)).compose(known -> Future.failedFuture(new Refused(known.size() == 0
            ? "the authorization code is unknown (or expired and removed)"
            : "the authorization code was used already; a code is redeemed once")));
      }
      Row row = rows.iterator().next();
      if (!row.getOffsetDateTime("expires_at").toInstant().isAfter(now)) {
        return Future.failedFuture(new Refused("the authorization code expired; codes live " + lifetime.toSeconds() + " seconds"));
      }
      return Future.succeededFuture(new Grant(row.getString("client_id"), row.getString("redirect_uri"), row.getString("code_challenge"),
          row.getString("subject"), Arrays.asList(row.getArrayOfStrings("scopes"))));
    });
  }

  /** Codes that expired before {@code before}, for the retention purge. */
  public static Purge.Rows expiredBefore(Instant before) {
    return Purge.byStatement("authorization codes", PURGE, utc(before));
  }
}
