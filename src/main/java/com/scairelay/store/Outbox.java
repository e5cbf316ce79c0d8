package com.scairelay.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;

import static com.scairelay.store.Times.utc;

/** What every target kind does to the outbox when the target goes away. */
public final class Outbox {
  private static final String CANCEL_PENDING = """
      UPDATE deliveries SET status = 'cancelled', updated_at = $2
      WHERE target_id = $1 AND status = 'pending' RETURNING id, event_id""";

  private Outbox() {
  }

  /** Cancels the target's queued deliveries in the caller's transaction; answers the rows cancelled. */
  public static Future<RowSet<Row>> cancelPending(SqlConnection conn, String targetId, Instant now) {
    return conn.preparedQuery(CANCEL_PENDING).execute(Tuple.of(targetId, utc(now)));
  }
}
