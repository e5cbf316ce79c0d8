package com.scairelay.targets;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Map;
import java.util.HashMap;

/**
 * The delivery counters of a page of targets (the bridges and webhooks lists), over the delivery log
 * kept: {@code delivered}, {@code failed}, and {@code queued} (pending), in one statement for the page.
 * Each count is a count of index entries: queued, failed and cancelled their partial indexes (V2,
 * V14, V17), the whole log of the target {@code deliveries_target_recent}; delivered is what is left.
 * Where the visibility map is current (autovacuum, V11) PostgreSQL reads no row at all, so a target
 * with a million deliveries in its log costs a read of its index entries, not a million row visits
 * (the log page's {@code totals}, which also counts attempts, visits every row).
 */
public final class DeliveryCounters {
  static final String COUNTS = """
      SELECT t.id,
        (SELECT count(*) FROM deliveries d WHERE d.target_id = t.id) AS logged,
        (SELECT count(*) FROM deliveries d WHERE d.target_id = t.id AND d.status = 'pending') AS queued,
        (SELECT count(*) FROM deliveries d WHERE d.target_id = t.id AND d.status = 'failed') AS failed,
        (SELECT count(*) FROM deliveries d WHERE d.target_id = t.id AND d.status = 'cancelled') AS cancelled
      FROM unnest($1::text[]) AS t (id)""";

  private final Pool pool;

  public DeliveryCounters(Pool pool) {
    this.pool = pool;
  }

  /** {@code {delivered, failed, queued}} by target id, for each of {@code targetIds}. */
  public Future<Map<String, JsonObject>> of(List<String> targetIds) {
    if (targetIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery(COUNTS).execute(Tuple.of(targetIds.toArray(String[]::new))).map(rows -> {
      Map<String, JsonObject> byId = new HashMap<>();
      for (Row row : rows) {
        long queued = row.getLong("queued");
        long failed = row.getLong("failed");
        long delivered = row.getLong("logged") - queued - failed - row.getLong("cancelled");
        byId.put(row.getString("id"), counters(delivered, failed, queued));
      }
      return byId;
    });
  }

  /** The counters of a target with nothing in its log. */
  public static JsonObject none() {
    return counters(0, 0, 0);
  }

  private static JsonObject counters(long delivered, long failed, long queued) {
    return new JsonObject().put("delivered", delivered).put("failed", failed).put("queued", queued);
  }
}
