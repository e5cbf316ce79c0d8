package com.scairelay.auth;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static com.scairelay.store.Times.utc;

/** Personal API keys for service accounts: shown once, stored hashed, revocable. */
public record ApiKeyStore(Pool pool, AuditLog audit) {
  /** A key's principal is {@code apikey:<key id>}: the {@code sub} of the tokens a person signed in with it gets. */
  static final String SUBJECT_PREFIX = "apikey:";
  private static final String INSERT = """
      INSERT INTO api_keys (id, name, scopes, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)""";
  private static final String BY_HASH = "SELECT id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
  private static final String LIST = "SELECT id, name, scopes, created_by, created_at FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at";
  private static final String REVOKE = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
  private static final String STANDING = "SELECT scopes, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1";

  Future<Void> insert(String id, String name, List<String> scopes, String key, String createdBy, Instant now, AuditEvent event) {
    Tuple row = Tuple.tuple(Arrays.asList(id, name, scopes.toArray(String[]::new), Buffer.buffer(Hashes.sha256(key)), createdBy, utc(now)));
    return audit.changing(event, conn -> conn.preparedQuery(INSERT).execute(row)).mapEmpty();
  }

  /** The principal of a live key. */
  Future<Optional<Principal>> find(String key) {
    return pool.preparedQuery(BY_HASH).execute(Tuple.of(Buffer.buffer(Hashes.sha256(key)))).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Principal(SUBJECT_PREFIX + row.getString("id"), Set.of(row.getArrayOfStrings("scopes")), null));
    });
  }

  Future<JsonArray> list() {
    return pool.preparedQuery(LIST).execute().map(rows -> {
      List<JsonObject> keys = new ArrayList<>();
      for (Row row : rows) {
        keys.add(new JsonObject().put("key_id", row.getString("id")).put("name", row.getString("name"))
            .put("scopes", new JsonArray(Arrays.asList(row.getArrayOfStrings("scopes")))).put("created_by", row.getString("created_by"))
            .put("created_at", row.getOffsetDateTime("created_at").toInstant().toString()));
      }
      return new JsonArray(keys);
    });
  }

  /** The key as the tokens issued to the person who signed in with it see it: revoked keys take those tokens with them. */
  Future<TokenRevocation.Standing> standing(String id) {
    return pool.preparedQuery(STANDING).execute(Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        return TokenRevocation.Standing.UNKNOWN;
      }
      Row row = rows.iterator().next();
      boolean revoked = row.getBoolean("revoked");
      return new TokenRevocation.Standing(true, revoked, revoked ? Set.of() : Set.of(row.getArrayOfStrings("scopes")));
    });
  }

  Future<Boolean> revoke(String id, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(REVOKE).execute(Tuple.of(id, utc(now))));
  }
}
