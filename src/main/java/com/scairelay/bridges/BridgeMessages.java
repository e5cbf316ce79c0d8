package com.scairelay.bridges;

import com.scairelay.targets.Outbox;
import com.scairelay.transport.ForeignIds;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

import static com.scairelay.store.Times.utc;

/**
 * The foreign ids of bridged messages in PostgreSQL: those a platform sent in are the {@code external_id}
 * of their events, those our deliveries created are in {@code bridge_messages}, written with the result.
 */
public record BridgeMessages(Pool pool) implements ForeignIds {
  private static final String FIND = """
      (SELECT event_id, true AS ours FROM bridge_messages WHERE bridge_id = $1 AND foreign_id = $2 ORDER BY created_at LIMIT 1)
      UNION ALL
      (SELECT id, false FROM events WHERE origin_bridge_id = $1 AND external_id = $2 ORDER BY seq LIMIT 1)
      LIMIT 1""";
  private static final String INSERT = """
      INSERT INTO bridge_messages (bridge_id, foreign_id, event_id, created_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
      ON CONFLICT DO NOTHING""";

  /** One message a delivery created. */
  public record Created(String bridgeId, String foreignId, String eventId, Instant at) {
  }

  @Override
  public Future<Optional<ForeignMessage>> find(String bridgeId, String foreignId) {
    return pool.preparedQuery(FIND).execute(Tuple.of(bridgeId, foreignId)).map(rows -> rows.size() == 0
        ? Optional.empty()
        : Optional.of(new ForeignMessage(rows.iterator().next().getString(0), rows.iterator().next().getBoolean(1))));
  }

  /** Records what deliveries created, in the transaction that records their results. */
  static Future<Void> record(Outbox.Tx tx, List<Created> created) {
    if (created.isEmpty()) {
      return Future.succeededFuture();
    }
    Tuple args = Tuple.of(
        created.stream().map(Created::bridgeId).toArray(String[]::new),
        created.stream().map(Created::foreignId).toArray(String[]::new),
        created.stream().map(Created::eventId).toArray(String[]::new),
        created.stream().map(c -> utc(c.at())).toArray(OffsetDateTime[]::new));
    return tx.preparedQuery(INSERT).execute(args).mapEmpty();
  }
}
