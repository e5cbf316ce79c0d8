package com.scairelay.bridges;

import com.scairelay.audit.AuditEvent;
import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.store.RotatingSecret;
import com.scairelay.store.SecretBox;
import com.scairelay.targets.Outbox;
import static com.scairelay.store.Times.utc;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** Bridges in PostgreSQL. Every change commits together with its audit event. */
public record BridgeStore(Pool pool, SecretBox secrets, AuditLog audit) {
  private static final String COLUMNS = """
      b.id, b.room_id, b.transport, b.direction, b.name, b.config, b.secret_enc, b.previous_secret_enc,
      b.previous_secret_expires_at, b.credentials_enc, b.paused, b.max_in_flight, b.created_at, b.updated_at""";
  private static final String INSERT = """
      INSERT INTO bridges (id, room_id, transport, direction, name, config, secret_enc, paused, max_in_flight, created_at, updated_at,
                           credentials_enc)
      VALUES ($1, $2, $3, $4, $5, $6, $7, false, $9, $8, $8, $10)""";
  private static final String SELECT_ONE = "SELECT " + COLUMNS + " FROM bridges b WHERE b.id = $1 AND b.deleted_at IS NULL";
  private static final String SELECT_ALL = "SELECT " + COLUMNS + " FROM bridges b WHERE b.deleted_at IS NULL ORDER BY b.created_at, b.id";
  /**
   * A page of the list in (created_at, id) order: {@code %1$s} the state's condition, {@code %2$s} the
   * cursor's (after the bridge {@code $1}, or none).
   */
  private static final String SELECT_PAGE = "SELECT " + COLUMNS + ", b.deleted_at FROM bridges b WHERE %1$s %2$s"
      + " ORDER BY b.created_at, b.id LIMIT $2";
  private static final String AFTER = "AND (b.created_at, b.id) > (SELECT c.created_at, c.id FROM bridges c WHERE c.id = $1)";
  private static final String FIRST = "AND $1::text IS NULL";
  private static final String EXISTS = "SELECT 1 FROM bridges WHERE id = $1";
  private static final String SELECT_COUNTERS = """
      SELECT bridge_id, accepted, duplicates, signature_failures, rejected_paused, last_inbound_at
      FROM bridge_counters WHERE bridge_id = ANY($1)""";
  /** Per transport: live bridges, their deliveries by status and attempts by outcome over the delivery log kept. */
  private static final String TRANSPORT_TOTALS = """
      SELECT b.transport, count(DISTINCT b.id) FILTER (WHERE b.deleted_at IS NULL) AS bridges,
        (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM
           (SELECT d.status, count(*) AS n FROM deliveries d JOIN bridges x ON x.id = d.target_id
            WHERE d.target_kind = 'bridge' AND x.transport = b.transport GROUP BY d.status) s) AS deliveries,
        (SELECT coalesce(jsonb_object_agg(outcome, n), '{}') FROM
           (SELECT a.outcome, count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
            JOIN bridges x ON x.id = d.target_id
            WHERE d.target_kind = 'bridge' AND x.transport = b.transport GROUP BY a.outcome) o) AS attempts
      FROM bridges b GROUP BY b.transport ORDER BY b.transport""";
  private static final String SET_PAUSED = """
      UPDATE bridges SET paused = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL""";
  private static final String ROTATE = RotatingSecret.rotateSql("bridges", "id", "secret_enc");
  private static final String DELETE = """
      UPDATE bridges SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL""";

  public Future<Void> insert(Bridge b, AuditEvent event) {
    Tuple row = Tuple.of(b.id(), b.roomId(), b.transport(), b.direction().wireName(), b.name(), b.config(),
        Buffer.buffer(secrets.seal(b.secret())), utc(b.createdAt()), b.maxInFlight(),
        b.credentials().isEmpty() ? null : Buffer.buffer(secrets.seal(b.credentials().encode())));
    return changing(event, conn -> conn.preparedQuery(INSERT).execute(row)).mapEmpty();
  }

  /** The bridge unless it is unknown or deleted. */
  public Future<Optional<Bridge>> find(String id) {
    return pool.preparedQuery(SELECT_ONE).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(fromRow(rows.iterator().next())));
  }

  /** Every live bridge, for the node's own use (the platform listeners). */
  public Future<List<Bridge>> list() {
    return pool.preparedQuery(SELECT_ALL).execute().map(rows -> {
      List<Bridge> bridges = new ArrayList<>();
      rows.forEach(row -> bridges.add(fromRow(row)));
      return bridges;
    });
  }

  /** Which bridges a list shows: {@code live} (the default: active and paused), or one state, or all. */
  public enum Listing {
    LIVE("b.deleted_at IS NULL"), ACTIVE("b.deleted_at IS NULL AND NOT b.paused"), PAUSED("b.deleted_at IS NULL AND b.paused"),
    DELETED("b.deleted_at IS NOT NULL"), ALL("true");

    private final String condition;

    Listing(String condition) {
      this.condition = condition;
    }
  }

  /** A bridge as a list shows it, with when it was deleted (null: it was not). */
  public record Listed(Bridge bridge, Instant deletedAt) {
    /** {@code active}, {@code paused} or {@code deleted}. */
    public String state() {
      return deletedAt != null ? "deleted" : bridge.paused() ? "paused" : "active";
    }
  }

  /**
   * At most {@code limit} bridges of {@code listing} in creation order, after the bridge {@code after}
   * (null: from the first); empty when {@code after} names no bridge ({@link #exists} tells).
   */
  public Future<List<Listed>> list(Listing listing, String after, int limit) {
    String sql = SELECT_PAGE.formatted(listing.condition, after == null ? FIRST : AFTER);
    return pool.preparedQuery(sql).execute(Tuple.of(after, limit)).map(rows -> {
      List<Listed> bridges = new ArrayList<>();
      rows.forEach(row -> bridges.add(new Listed(fromRow(row), instant(row.getOffsetDateTime("deleted_at")))));
      return bridges;
    });
  }

  /** Whether a bridge with this id exists or existed (ids are never reused). */
  public Future<Boolean> exists(String id) {
    return pool.preparedQuery(EXISTS).execute(Tuple.of(id)).map(rows -> rows.size() > 0);
  }

  private static Instant instant(OffsetDateTime value) {
    return value == null ? null : value.toInstant();
  }

  /** Counters per bridge id, as {@code counters} objects for the admin API. */
  public Future<JsonObject> counters(List<String> bridgeIds) {
    return pool.preparedQuery(SELECT_COUNTERS).execute(Tuple.of(bridgeIds.toArray(String[]::new))).map(rows -> {
      JsonObject byId = new JsonObject();
      for (Row row : rows) {
        OffsetDateTime last = row.getOffsetDateTime("last_inbound_at");
        byId.put(row.getString("bridge_id"), new JsonObject()
            .put("inbound_accepted", row.getLong("accepted"))
            .put("inbound_duplicates", row.getLong("duplicates"))
            .put("inbound_signature_failures", row.getLong("signature_failures"))
            .put("inbound_rejected_paused", row.getLong("rejected_paused"))
            .put("last_inbound_at", last == null ? null : last.toInstant().toString()));
      }
      return byId;
    });
  }

  /** The delivery counters of each transport bridges use. */
  public Future<JsonArray> transportTotals() {
    return pool.preparedQuery(TRANSPORT_TOTALS).execute().map(rows -> {
      JsonArray out = new JsonArray();
      rows.forEach(row -> out.add(new JsonObject().put("transport", row.getString("transport")).put("bridges", row.getLong("bridges"))
          .put("deliveries", row.getJsonObject("deliveries")).put("attempts", row.getJsonObject("attempts"))));
      return out;
    });
  }

  /** True when the bridge existed (and was not deleted). */
  public Future<Boolean> setPaused(String id, boolean paused, Instant now, AuditEvent event) {
    return changing(event, conn -> conn.preparedQuery(SET_PAUSED).execute(Tuple.of(id, paused, utc(now))));
  }

  public Future<Boolean> rotate(String id, String newSecret, Instant previousExpiresAt, Instant now, AuditEvent event) {
    return changing(event, conn -> conn.preparedQuery(ROTATE)
        .execute(Tuple.of(id, Buffer.buffer(secrets.seal(newSecret)), utc(previousExpiresAt), utc(now))));
  }

  /** Deletes the bridge and cancels what it still had queued, auditing both in one transaction. */
  public Future<Boolean> delete(String id, Instant now, AuditEvent event) {
    return changing(event, conn -> conn.preparedQuery(DELETE).execute(Tuple.of(id, utc(now))).compose(deleted -> deleted.rowCount() == 0
        ? Future.succeededFuture(deleted)
        : conn.cancelPending(id, now).compose(cancelled -> cancelled.rowCount() == 0
            ? Future.succeededFuture(deleted)
            : audit.record(conn, cancelledEvent(id, cancelled, now)).map(deleted))));
  }

  private AuditEvent cancelledEvent(String bridgeId, RowSet<Row> cancelled, Instant now) {
    JsonArray events = new JsonArray();
    cancelled.forEach(row -> events.add(row.getString("event_id")));
    return AuditEvent.of(now, Category.ADMIN, "bridge.deliveries_cancelled", null, bridgeId,
        new JsonObject().put("bridge_id", bridgeId).put("cancelled", cancelled.rowCount()).put("event_ids", events));
  }

  private Future<Boolean> changing(AuditEvent event, Function<Outbox.Tx, Future<RowSet<Row>>> change) {
    return audit.changing(event, change);
  }

  private JsonObject credentials(Buffer sealed) {
    return sealed == null ? new JsonObject() : new JsonObject(secrets.open(sealed.getBytes()));
  }

  private Bridge fromRow(Row row) {
    return new Bridge(
        row.getString("id"),
        row.getString("room_id"),
        row.getString("transport"),
        Direction.valueOf(row.getString("direction").toUpperCase()),
        row.getString("name"),
        (JsonObject) row.getValue("config"),
        secrets.openRotating(row),
        credentials(row.getBuffer("credentials_enc")),
        row.getBoolean("paused"),
        row.getInteger("max_in_flight"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getOffsetDateTime("updated_at").toInstant());
  }

}
