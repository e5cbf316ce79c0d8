package com.scairelay.auth;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static com.scairelay.store.Times.utc;

import com.scairelay.store.RotatingSecret;

/** Applications in PostgreSQL, secrets hashed; every change commits with its audit event. */
public record ApplicationStore(Pool pool, AuditLog audit) {
  private static final String COLUMNS = """
      client_id, name, description, redirect_uris, scopes, token_lifetime, secret_hash, previous_secret_hash,
      previous_secret_expires_at, created_at, updated_at""";
  private static final String INSERT = """
      INSERT INTO applications (client_id, name, description, redirect_uris, scopes, token_lifetime, secret_hash, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)""";
  private static final String SELECT_ONE = "SELECT " + COLUMNS + " FROM applications WHERE client_id = $1 AND deleted_at IS NULL";
  private static final String SELECT_ALL = "SELECT " + COLUMNS + " FROM applications WHERE deleted_at IS NULL ORDER BY created_at";
  private static final String UPDATE = """
      UPDATE applications SET scopes = coalesce($2, scopes), token_lifetime = coalesce($3, token_lifetime),
        description = coalesce($4, description), redirect_uris = coalesce($6, redirect_uris), updated_at = $5
      WHERE client_id = $1 AND deleted_at IS NULL""";
  private static final String ROTATE = RotatingSecret.rotateSql("applications", "client_id", "secret_hash");
  private static final String DELETE = "UPDATE applications SET deleted_at = $2, updated_at = $2 WHERE client_id = $1 AND deleted_at IS NULL";
  private static final String STANDING = "SELECT scopes, deleted_at IS NOT NULL AS deleted FROM applications WHERE client_id = $1";

  Future<Void> insert(Application app, String secret, AuditEvent event) {
    Tuple row = Tuple.tuple(List.of(app.clientId(), app.name(), app.description(), app.redirectUris().toArray(String[]::new),
        app.scopes().toArray(String[]::new), app.tokenLifetime(), Buffer.buffer(Hashes.sha256(secret)), utc(app.createdAt())));
    return audit.changing(event, conn -> conn.preparedQuery(INSERT).execute(row)).mapEmpty();
  }

  Future<Optional<Application>> find(String clientId) {
    return pool.preparedQuery(SELECT_ONE).execute(Tuple.of(clientId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(fromRow(rows.iterator().next())));
  }

  /** The application when {@code secret} is its current secret, or its previous one before the grace ends. */
  Future<Optional<Application>> authenticate(String clientId, String secret, Instant now) {
    return pool.preparedQuery(SELECT_ONE).execute(Tuple.of(clientId)).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      Buffer previous = row.getBuffer("previous_secret_hash");
      Application app = fromRow(row);
      RotatingSecret<byte[]> hashes = new RotatingSecret<>(row.getBuffer("secret_hash").getBytes(),
          previous == null ? null : previous.getBytes(), app.previousSecretExpiresAt());
      return hashes.valid(now).stream().anyMatch(hash -> Hashes.matches(secret, hash)) ? Optional.of(app) : Optional.empty();
    });
  }

  /** What tokens issued to {@code clientId} may still do: deleted rows are kept, so a deleted application is told from an unknown one. */
  Future<TokenRevocation.Standing> standing(String clientId) {
    return pool.preparedQuery(STANDING).execute(Tuple.of(clientId)).map(rows -> {
      if (rows.size() == 0) {
        return TokenRevocation.Standing.UNKNOWN;
      }
      Row row = rows.iterator().next();
      boolean deleted = row.getBoolean("deleted");
      return new TokenRevocation.Standing(true, deleted, deleted ? Set.of() : Set.copyOf(Arrays.asList(row.getArrayOfStrings("scopes"))));
    });
  }

  Future<List<Application>> list() {
    return pool.preparedQuery(SELECT_ALL).execute().map(rows -> {
      List<Application> apps = new ArrayList<>();
      rows.forEach(row -> apps.add(fromRow(row)));
      return apps;
    });
  }

  /** Changes the fields given (null: left as it is). */
  Future<Boolean> update(String clientId, List<String> scopes, Integer lifetime, String description, List<String> redirectUris,
                         Instant now, AuditEvent event) {
    Tuple args = Tuple.tuple(Arrays.asList(clientId, scopes == null ? null : scopes.toArray(String[]::new), lifetime, description, utc(now),
        redirectUris == null ? null : redirectUris.toArray(String[]::new)));
    return audit.changing(event, conn -> conn.preparedQuery(UPDATE).execute(args));
  }

  Future<Boolean> rotate(String clientId, String secret, Instant previousExpiresAt, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(ROTATE)
        .execute(Tuple.of(clientId, Buffer.buffer(Hashes.sha256(secret)), utc(previousExpiresAt), utc(now))));
  }

  Future<Boolean> delete(String clientId, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(DELETE).execute(Tuple.of(clientId, utc(now))));
  }

  private static Application fromRow(Row row) {
    OffsetDateTime previousExpires = row.getOffsetDateTime("previous_secret_expires_at");
    return new Application(row.getString("client_id"), row.getString("name"), row.getString("description"),
        Arrays.asList(row.getArrayOfStrings("redirect_uris")), Arrays.asList(row.getArrayOfStrings("scopes")),
        row.getInteger("token_lifetime"), previousExpires == null ? null : previousExpires.toInstant(),
        row.getOffsetDateTime("created_at").toInstant(), row.getOffsetDateTime("updated_at").toInstant());
  }
}
