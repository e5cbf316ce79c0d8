package com.scairelay.eventlog;

import com.scairelay.store.Purge;
import com.scairelay.targets.Outbox;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

import static com.scairelay.store.Times.utc;

/**
 * Room events created before a cutoff ({@code retention.events_days}), for the purge: room by room,
 * each room's events in order from its oldest, stopping at its first younger one. An event a delivery
 * is still pending for stays (its queue would wait on it forever otherwise); the messages the room's
 * bridges posted for a purged event go with it. Rooms, participants and later events stay. The walk
 * uses only the indexes the write path keeps anyway (a room's events by sequence), none of its own.
 */
public final class EventPurge implements Purge.Rows {
  /** A page of rooms after {@code $1} (at most {@code $3}), each marked when its oldest event is older than {@code $2}. */
  private static final String ROOMS = """
      SELECT r.id, (SELECT e.created_at FROM events e WHERE e.room_id = r.id ORDER BY e.seq LIMIT 1) < $2 AS old
      FROM (SELECT id FROM rooms WHERE id > $1 ORDER BY id LIMIT $3) r ORDER BY r.id""";
  private static final String ROOM_BRIDGES = "SELECT b.id FROM bridges b WHERE b.room_id = $1";
  /**
   * The next {@code $4} events of room {@code $1} after sequence {@code $2}; of those created before
   * {@code $3}, the ones no delivery is pending for are deleted, with their bridge messages.
   */
  private static final String PURGE_ROOM = """
      WITH batch AS (
        SELECT id, seq, created_at FROM events WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $4
      ), old AS (
        SELECT id FROM batch WHERE created_at < $3
      ), held AS MATERIALIZED (
        %s
      ), gone AS (
        DELETE FROM events e USING old WHERE e.id = old.id AND old.id NOT IN (SELECT event_id FROM held) RETURNING e.id
      ), messages AS (
        DELETE FROM bridge_messages m USING gone WHERE m.event_id = gone.id AND m.bridge_id IN (%s)
      )
      SELECT (SELECT count(*) FROM batch) AS read, (SELECT count(*) FROM old) AS old, (SELECT max(seq) FROM batch) AS last,
             (SELECT count(*) FROM gone) AS purged""".formatted(Outbox.pendingEvents("SELECT id FROM old", ROOM_BRIDGES), ROOM_BRIDGES);

  private final Instant before;
  private final Deque<String> oldRooms = new ArrayDeque<>();
  private String roomsAfter = "";
  private boolean roomsDone;
  private long seqAfter;

  private EventPurge(Instant before) {
    this.before = before;
  }

  public static Purge.Rows before(Instant before) {
    return new EventPurge(before);
  }

  @Override
  public String name() {
    return "room events";
  }

  @Override
  public Future<Purge.Batch> next(SqlClient sql, int limit) {
    if (!oldRooms.isEmpty()) {
      return sql.preparedQuery(PURGE_ROOM).execute(Tuple.of(oldRooms.peek(), seqAfter, utc(before), limit)).map(rows -> {
        Purge.Walk walk = Purge.Walk.of(rows);
        if (walk.more(limit)) {
          seqAfter = walk.last();
        } else {
          oldRooms.pop();
          seqAfter = 0;
        }
        return new Purge.Batch(walk.purged(), walk.old() - walk.purged(), !oldRooms.isEmpty() || !roomsDone);
      });
    }
    if (roomsDone) {
      return Future.succeededFuture(new Purge.Batch(0, 0, false));
    }
    return sql.preparedQuery(ROOMS).execute(Tuple.of(roomsAfter, utc(before), limit)).map(rows -> {
      for (Row row : rows) {
        roomsAfter = row.getString("id");
        if (Boolean.TRUE.equals(row.getBoolean("old"))) {
          oldRooms.add(roomsAfter);
        }
      }
      roomsDone = rows.size() < limit;
      return new Purge.Batch(0, 0, !oldRooms.isEmpty() || !roomsDone);
    });
  }
}
