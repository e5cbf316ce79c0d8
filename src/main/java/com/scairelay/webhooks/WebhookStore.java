package com.scairelay.webhooks;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.store.RotatingSecret;
import com.scairelay.store.SecretBox;
import com.scairelay.targets.Outbox;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static com.scairelay.store.Times.utc;

/** Webhook subscriptions in PostgreSQL; every change commits with its audit event. */
public record WebhookStore(Pool pool, SecretBox secrets, AuditLog audit) {
  private static final String COLUMNS = """
      id, name, url, categories, filters, headers, secret_enc, previous_secret_enc, previous_secret_expires_at,
      paused, queue_limit, created_at, updated_at""";
  private static final String INSERT = """
      INSERT INTO webhooks (id, name, url, categories, filters, headers, secret_enc, queue_limit, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)""";
  private static final String SELECT_ONE = "SELECT " + COLUMNS + " FROM webhooks WHERE id = $1 AND deleted_at IS NULL";
  /** A page of the live subscriptions in (created_at, id) order ({@code webhooks_live}), after {@code $1} when {@code %s} says so. */
  private static final String SELECT_PAGE = "SELECT " + COLUMNS + " FROM webhooks WHERE deleted_at IS NULL %s ORDER BY created_at, id LIMIT $2";
  private static final String AFTER = "AND (created_at, id) > (SELECT c.created_at, c.id FROM webhooks c WHERE c.id = $1)";
  private static final String FIRST = "AND $1::text IS NULL";
  private static final String EXISTS = "SELECT 1 FROM webhooks WHERE id = $1";
  private static final String UPDATE = """
      UPDATE webhooks SET name = coalesce($2, name), url = coalesce($3, url), categories = coalesce($4, categories),
        filters = coalesce($5, filters), headers = coalesce($6, headers), queue_limit = coalesce($7, queue_limit), updated_at = $8
      WHERE id = $1 AND deleted_at IS NULL""";
  private static final String SET_PAUSED = "UPDATE webhooks SET paused = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL";
  /** Ends a pause episode: the count of events it could not queue, reset for the next one. */
  private static final String TAKE_OVERFLOW = """
      UPDATE webhooks w SET dropped_while_paused = 0 FROM (SELECT id, dropped_while_paused FROM webhooks WHERE id = $1 FOR UPDATE) old
      WHERE w.id = old.id RETURNING old.dropped_while_paused""";
  private static final String ROTATE = RotatingSecret.rotateSql("webhooks", "id", "secret_enc");
  private static final String DELETE = "UPDATE webhooks SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL";

  Future<Void> insert(Webhook w, AuditEvent event) {
    Tuple row = Tuple.of(w.id(), w.name(), w.url(), w.categories().toArray(String[]::new), w.filters(), w.headers(),
        Buffer.buffer(secrets.seal(w.secret())), w.queueLimit(), utc(w.createdAt()));
    return audit.changing(event, conn -> conn.preparedQuery(INSERT).execute(row)).mapEmpty();
  }

  public Future<Optional<Webhook>> find(String id) {
    return pool.preparedQuery(SELECT_ONE).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(fromRow(rows.iterator().next())));
  }

  /** At most {@code limit} live subscriptions after {@code after} (null: from the first); empty when {@code after} names none. */
  Future<List<Webhook>> list(String after, int limit) {
    return pool.preparedQuery(SELECT_PAGE.formatted(after == null ? FIRST : AFTER)).execute(Tuple.of(after, limit)).map(rows -> {
      List<Webhook> webhooks = new ArrayList<>();
      rows.forEach(row -> webhooks.add(fromRow(row)));
      return webhooks;
    });
  }

  /** Whether a subscription with this id exists or existed. */
  Future<Boolean> exists(String id) {
    return pool.preparedQuery(EXISTS).execute(Tuple.of(id)).map(rows -> rows.size() > 0);
  }

  Future<Boolean> update(String id, WebhookRequest change, Instant now, AuditEvent event) {
    Tuple args = Tuple.tuple()
        .addValue(id).addValue(change.name()).addValue(change.url())
        .addValue(change.categories() == null ? null : change.categories().toArray(String[]::new))
        .addValue(change.filters()).addValue(change.headers()).addValue(change.queueLimit()).addValue(utc(now));
    return audit.changing(event, conn -> conn.preparedQuery(UPDATE).execute(args));
  }

  /** Pauses or resumes; a resume (or a delete) records how many events the pause episode dropped, if any. */
  Future<Boolean> setPaused(String id, boolean paused, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(SET_PAUSED).execute(Tuple.of(id, paused, utc(now)))
        .compose(rows -> paused || rows.rowCount() == 0 ? Future.succeededFuture(rows) : recordOverflow(conn, id, now).map(rows)));
  }

  private Future<Void> recordOverflow(Outbox.Tx conn, String id, Instant now) {
    return conn.preparedQuery(TAKE_OVERFLOW).execute(Tuple.of(id)).compose(rows -> {
      int dropped = rows.size() == 0 ? 0 : rows.iterator().next().getInteger(0);
      if (dropped == 0) {
        return Future.succeededFuture();
      }
      return audit.record(conn, AuditEvent.of(now, Category.ADMIN, "webhook.queue_overflow", null, id,
          new JsonObject().put("webhook_id", id).put("dropped", dropped)));
    });
  }

  Future<Boolean> rotate(String id, String newSecret, Instant previousExpiresAt, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(ROTATE)
        .execute(Tuple.of(id, Buffer.buffer(secrets.seal(newSecret)), utc(previousExpiresAt), utc(now))));
  }

  Future<Boolean> delete(String id, Instant now, AuditEvent event) {
    return audit.changing(event, conn -> conn.preparedQuery(DELETE).execute(Tuple.of(id, utc(now)))
        .compose(rows -> rows.rowCount() == 0 ? Future.succeededFuture(rows) : recordOverflow(conn, id, now)
            .compose(v -> conn.cancelPending(id, now))
            .map(rows)));
  }

  private Webhook fromRow(Row row) {
    return new Webhook(
        row.getString("id"),
        row.getString("name"),
        row.getString("url"),
        Arrays.asList(row.getArrayOfStrings("categories")),
        (JsonObject) row.getValue("filters"),
        (JsonObject) row.getValue("headers"),
        secrets.openRotating(row),
        row.getBoolean("paused"),
        row.getInteger("queue_limit"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getOffsetDateTime("updated_at").toInstant());
  }
}
