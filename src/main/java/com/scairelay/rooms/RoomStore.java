package com.scairelay.rooms;

import com.scairelay.eventlog.StoredEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static com.scairelay.store.Times.utc;

/** Rooms, their events and participants in PostgreSQL (events are written by the event log). */
public final class RoomStore {
  private static final String INSERT = "INSERT INTO rooms (id, name, created_at) VALUES ($1, $2, $3)";
  private static final String SELECT = "SELECT id, name, created_at FROM rooms WHERE id = $1";
  private static final String EVENT_SEQ = "SELECT seq FROM events WHERE id = $1 AND room_id = $2";
  private static final String EVENTS_AFTER = """
      SELECT e.id, e.room_id, e.sender_id, p.fqid, p.display_name, e.content, e.thread_id, e.reply_to,
             e.origin_bridge_id, e.created_at
      FROM events e JOIN participants p ON p.id = e.sender_id
      WHERE e.room_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3""";
  private static final String PARTICIPANTS = """
      SELECT id, fqid, kind, bridge_id, external_id, display_name, avatar_url, created_at, updated_at
      FROM participants WHERE room_id = $1 ORDER BY created_at, id""";

  public record Room(String id, String name, Instant createdAt) {
    public JsonObject toJson() {
      return new JsonObject().put("room_id", id).put("name", name).put("created_at", createdAt.toString());
    }
  }

  private final Pool pool;

  public RoomStore(Pool pool) {
    this.pool = pool;
  }

  public Future<Room> create(Room room) {
    return pool.preparedQuery(INSERT).execute(Tuple.of(room.id(), room.name(), utc(room.createdAt()))).map(room);
  }

  public Future<Optional<Room>> find(String id) {
    return pool.preparedQuery(SELECT).execute(Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Room(row.getString("id"), row.getString("name"), row.getOffsetDateTime("created_at").toInstant()));
    });
  }

  /** The sequence number of an event of this room, to page after it; empty when there is no such event. */
  public Future<Optional<Long>> sequenceOf(String roomId, String eventId) {
    return pool.preparedQuery(EVENT_SEQ).execute(Tuple.of(eventId, roomId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getLong(0)));
  }

  public Future<List<StoredEvent>> eventsAfter(String roomId, long afterSeq, int limit) {
    return pool.preparedQuery(EVENTS_AFTER).execute(Tuple.of(roomId, afterSeq, limit)).map(rows -> {
      List<StoredEvent> events = new ArrayList<>();
      for (Row row : rows) {
        events.add(new StoredEvent(row.getString("id"), row.getString("room_id"), row.getString("sender_id"),
            row.getString("fqid"), row.getString("display_name"), (JsonObject) row.getValue("content"),
            row.getString("thread_id"), row.getString("reply_to"), row.getString("origin_bridge_id"),
            row.getOffsetDateTime("created_at").toInstant()));
      }
      return events;
    });
  }

  public Future<List<JsonObject>> participants(String roomId) {
    return pool.preparedQuery(PARTICIPANTS).execute(Tuple.of(roomId)).map(rows -> {
      List<JsonObject> participants = new ArrayList<>();
      for (Row row : rows) {
        participants.add(new JsonObject()
            .put("id", row.getString("id"))
            .put("fqid", row.getString("fqid"))
            .put("kind", row.getString("kind"))
            .put("bridge_id", row.getString("bridge_id"))
            .put("external_id", row.getString("external_id"))
            .put("display_name", row.getString("display_name"))
            .put("avatar_url", row.getString("avatar_url"))
            .put("created_at", row.getOffsetDateTime("created_at").toInstant().toString())
            .put("updated_at", row.getOffsetDateTime("updated_at").toInstant().toString()));
      }
      return participants;
    });
  }
}
