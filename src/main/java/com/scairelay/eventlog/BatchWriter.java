package com.scairelay.eventlog;

import com.scairelay.targets.Outbox;
import com.scairelay.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static com.scairelay.store.Times.utc;

/**
 * Writes one batch of events in one transaction with a handful of multi-row statements, whatever the
 * batch size: lock the rooms, claim the dedupe keys, upsert the senders, resolve replies, insert the
 * events. Rows are touched in a fixed order (sorted keys) so concurrent batches cannot deadlock, and
 * the room lock makes event order in a room the order of commit.
 */
final class BatchWriter {
  private static final String LOCK_ROOMS = "SELECT id FROM rooms WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE";
  private static final String CLAIM_DEDUPE = """
      INSERT INTO inbound_dedupe AS d (bridge_id, external_event_id, event_id, received_at)
      SELECT t.bridge_id, t.external_event_id, t.event_id, $4
      FROM unnest($1::text[], $2::text[], $3::text[], $6::text[]) AS t (bridge_id, external_event_id, event_id, room_id)
      WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.id = t.room_id)
      ON CONFLICT (bridge_id, external_event_id) DO UPDATE
        SET event_id = excluded.event_id, received_at = excluded.received_at
        WHERE d.received_at <= $5
      RETURNING bridge_id, external_event_id""";
  private static final String EXISTING_DEDUPE = """
      SELECT bridge_id, external_event_id, event_id FROM inbound_dedupe
      WHERE (bridge_id, external_event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))""";
  private static final String UPSERT_SENDERS = """
      INSERT INTO participants AS p (id, room_id, fqid, kind, bridge_id, external_id, display_name, avatar_url, created_at, updated_at)
      SELECT t.id, t.room_id, t.fqid, t.kind, t.bridge_id, t.external_id, t.display_name, t.avatar_url, $9, $9
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
        AS t (id, room_id, fqid, kind, bridge_id, external_id, display_name, avatar_url)
      ON CONFLICT (room_id, fqid) DO UPDATE SET
        display_name = coalesce(excluded.display_name, p.display_name),
        avatar_url = coalesce(excluded.avatar_url, p.avatar_url),
        updated_at = excluded.updated_at
      RETURNING id, room_id, fqid, display_name, avatar_url""";
  private static final String FIND_SENDERS = """
      SELECT id, room_id, fqid, display_name, avatar_url FROM participants
      WHERE (room_id, fqid) IN (SELECT * FROM unnest($1::text[], $2::text[]))""";
  /** A foreign id names a message the bridge sent in, or one our deliveries created on its platform. */
  private static final String FIND_REFERENCES = """
      (SELECT DISTINCT ON (origin_bridge_id, external_id) origin_bridge_id, external_id, id FROM events
       WHERE (origin_bridge_id, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       ORDER BY origin_bridge_id, external_id, seq DESC)
      UNION ALL
      (SELECT DISTINCT ON (bridge_id, foreign_id) bridge_id, foreign_id, event_id FROM bridge_messages
       WHERE (bridge_id, foreign_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       ORDER BY bridge_id, foreign_id, created_at)""";
  /**
   * Inserts the events and queues their deliveries: one per outbound bridge of the event's room, never
   * back to the bridge the event came in through, in event order; answers the targets queued for.
   */
  private static final String INSERT_EVENTS = """
      WITH inserted AS (
        INSERT INTO events (id, room_id, sender_id, content, thread_id, reply_to, reply_to_external_id,
                            origin_bridge_id, external_id, created_at)
        SELECT t.id, t.room_id, t.sender_id, t.content::jsonb, t.thread_id, t.reply_to, t.reply_to_external_id,
               t.origin_bridge_id, t.external_id, $10
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
          WITH ORDINALITY AS t (id, room_id, sender_id, content, thread_id, reply_to, reply_to_external_id,
                                origin_bridge_id, external_id, n)
        ORDER BY t.n
      ), %s
      SELECT DISTINCT target_id FROM queued""".formatted(Outbox.enqueueCte("queued", """
          SELECT b.id AS target_id, e.id AS event_id, e.n
          FROM unnest($1::text[], $2::text[], $8::text[]) WITH ORDINALITY AS e (id, room_id, origin_bridge_id, n)
          JOIN bridges b ON b.room_id = e.room_id AND b.deleted_at IS NULL AND b.direction IN ('outbound', 'both')
                        AND b.id IS DISTINCT FROM e.origin_bridge_id""", "$11", "$10"));

  /** One write of the batch and what became of it. */
  static final class Item {
    final EventWrite write;
    final Promise<Appended> promise;
    final String newId = Ids.newId("ev");
    Item duplicateOf;
    String existingEventId;
    boolean stored;
    String senderId;
    String senderDisplayName;
    String threadId;
    String replyTo;

    Item(EventWrite write, Promise<Appended> promise) {
      this.write = write;
      this.promise = promise;
    }

    /** Forgets what an earlier, failed attempt of a batch made of this item. */
    void reset() {
      duplicateOf = null;
      existingEventId = null;
      stored = false;
      senderId = null;
      senderDisplayName = null;
      threadId = null;
      replyTo = null;
    }

    String eventId() {
      if (duplicateOf != null) {
        return duplicateOf.eventId();
      }
      return existingEventId != null ? existingEventId : newId;
    }

    boolean isNew() {
      return duplicateOf == null && existingEventId == null;
    }
  }

  private final Outbox outbox;
  private final Duration dedupeWindow;
  private final String bridgeKind;

  BatchWriter(Outbox outbox, Duration dedupeWindow, String bridgeKind) {
    this.outbox = outbox;
    this.bridgeKind = bridgeKind;
    this.dedupeWindow = dedupeWindow;
  }

  /**
   * Stores the batch; on success each item is either stored (a new event) or resolved as a duplicate.
   * Items for a room that does not exist are failed with {@link RoomNotFound} and left out. Returns the
   * stored events; their deliveries are queued in the same transaction.
   */
  Future<List<StoredEvent>> write(List<Item> batch, Instant now) {
    batch.forEach(Item::reset);
    return outbox.inTransaction(conn -> {
      // Sent together, in this order: each statement after the first starts once the rooms are locked,
      // so it sees every batch of these rooms that committed before.
      Future<List<Item>> inRooms = lockRooms(conn, batch);
      Future<Set<String>> claimed = claimDedupe(conn, batch, now);
      Future<Map<String, Row>> known = findSenders(conn, batch);
      Future<Map<String, String>> references = findReferences(conn, batch);
      return Future.all(inRooms, claimed, known, references)
          .compose(v -> loadExisting(conn, inRooms.result(), claimed.result()))
          .compose(items -> writeSenders(conn, items, known.result(), now))
          .map(items -> applyReferences(items, references.result()))
          .compose(items -> insertEvents(conn, items, now));
    });
  }


  private Future<List<Item>> lockRooms(Outbox.Tx conn, List<Item> batch) {
    String[] roomIds = batch.stream().map(i -> i.write.roomId()).distinct().sorted().toArray(String[]::new);
    return conn.preparedQuery(LOCK_ROOMS).execute(Tuple.of((Object) roomIds)).map(rows -> {
      Set<String> found = new HashSet<>();
      rows.forEach(row -> found.add(row.getString(0)));
      List<Item> kept = new ArrayList<>(batch.size());
      for (Item item : batch) {
        if (found.contains(item.write.roomId())) {
          kept.add(item);
        } else {
          item.promise.tryFail(new RoomNotFound(item.write.roomId()));
        }
      }
      return kept;
    });
  }

  /**
   * Marks later items of a foreign id already in the batch as its duplicates, and claims the dedupe
   * keys of the first ones (in rooms that exist); answers the keys claimed. A key not claimed was seen
   * within the window: {@link #loadExisting} finds its event.
   */
  private Future<Set<String>> claimDedupe(Outbox.Tx conn, List<Item> items, Instant now) {
    Map<String, Item> firstByKey = new HashMap<>();
    List<Item> candidates = new ArrayList<>();
    for (Item item : items) {
      if (!item.write.isInbound()) {
        continue;
      }
      Item first = firstByKey.putIfAbsent(item.write.dedupeKey(), item);
      if (first != null) {
        item.duplicateOf = first;
      } else {
        candidates.add(item);
      }
    }
    if (candidates.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    candidates.sort(Comparator.comparing(i -> i.write.dedupeKey()));
    Tuple claim = Tuple.of(
        column(candidates, i -> i.write.originBridgeId()),
        column(candidates, i -> i.write.externalEventId()),
        column(candidates, i -> i.newId),
        utc(now),
        utc(now.minus(dedupeWindow)),
        column(candidates, i -> i.write.roomId()));
    return conn.preparedQuery(CLAIM_DEDUPE).execute(claim).map(rows -> {
      Set<String> claimed = new HashSet<>();
      rows.forEach(row -> claimed.add(row.getString(0) + "\u0000" + row.getString(1)));
      return claimed;
    });
  }

  /** The event each first item of a foreign id seen within the window stands for. */
  private Future<List<Item>> loadExisting(Outbox.Tx conn, List<Item> items, Set<String> claimed) {
    List<Item> seenBefore = items.stream()
        .filter(i -> i.write.isInbound() && i.duplicateOf == null && !claimed.contains(i.write.dedupeKey())).toList();
    if (seenBefore.isEmpty()) {
      return Future.succeededFuture(items);
    }
    Tuple keys = Tuple.tuple(List.of(column(seenBefore, i -> i.write.originBridgeId()), column(seenBefore, i -> i.write.externalEventId())));
    return conn.preparedQuery(EXISTING_DEDUPE).execute(keys).map(rows -> {
      Map<String, String> existing = new HashMap<>();
      rows.forEach(row -> existing.put(row.getString(0) + "\u0000" + row.getString(1), row.getString(2)));
      for (Item item : seenBefore) {
        item.existingEventId = existing.get(item.write.dedupeKey());
        if (item.existingEventId == null) {
          throw new IllegalStateException("dedupe row for " + item.write.externalEventId() + " vanished mid-transaction");
        }
      }
      return items;
    });
  }

  /** The stored participants of the batch's senders, by room and fqid. */
  private Future<Map<String, Row>> findSenders(Outbox.Tx conn, List<Item> items) {
    Map<String, Item> bySender = new LinkedHashMap<>();
    items.stream().filter(i -> i.duplicateOf == null).forEach(i -> bySender.putIfAbsent(senderKey(i), i));
    List<Item> senders = new ArrayList<>(bySender.values());
    if (senders.isEmpty()) {
      return Future.succeededFuture(new HashMap<>());
    }
    Tuple keys = Tuple.tuple(List.of(column(senders, i -> i.write.roomId()), column(senders, i -> i.write.sender().fqid())));
    return conn.preparedQuery(FIND_SENDERS).execute(keys).map(found -> {
      Map<String, Row> known = new HashMap<>();
      found.forEach(row -> known.put(row.getString("room_id") + "\u0000" + row.getString("fqid"), row));
      return known;
    });
  }

  /**
   * Writes only the participants that are new or whose name or avatar changed (the last of the batch
   * wins): a busy sender costs an index lookup, not a row update per batch. Then gives each new item
   * its sender.
   */
  private Future<List<Item>> writeSenders(Outbox.Tx conn, List<Item> items, Map<String, Row> known, Instant now) {
    Map<String, Item> lastBySender = new LinkedHashMap<>();
    items.stream().filter(Item::isNew).forEach(i -> lastBySender.put(senderKey(i), i));
    List<Item> changed = lastBySender.values().stream().filter(i -> needsWrite(i.write.sender(), known.get(senderKey(i))))
        .sorted(Comparator.comparing(BatchWriter::senderKey)).toList();
    Future<Void> written = changed.isEmpty() ? Future.succeededFuture() : upsertSenders(conn, changed, now).map(rows -> {
      rows.forEach(row -> known.put(row.getString("room_id") + "\u0000" + row.getString("fqid"), row));
      return null;
    });
    return written.map(v -> {
      for (Item item : items) {
        if (item.isNew()) {
          Row row = known.get(senderKey(item));
          item.senderId = row.getString("id");
          item.senderDisplayName = row.getString("display_name");
        }
      }
      return items;
    });
  }

  private static boolean needsWrite(Sender sender, Row stored) {
    return stored == null
        || (sender.displayName() != null && !sender.displayName().equals(stored.getString("display_name")))
        || (sender.avatarUrl() != null && !sender.avatarUrl().equals(stored.getString("avatar_url")));
  }

  private Future<List<Row>> upsertSenders(Outbox.Tx conn, List<Item> senders, Instant now) {
    Tuple rows = Tuple.of(
        column(senders, i -> Ids.newId("pt")),
        column(senders, i -> i.write.roomId()),
        column(senders, i -> i.write.sender().fqid()),
        column(senders, i -> i.write.sender().isShadow() ? "shadow" : "native"),
        column(senders, i -> i.write.sender().bridgeId()),
        column(senders, i -> i.write.sender().externalId()),
        column(senders, i -> i.write.sender().displayName()),
        column(senders, i -> i.write.sender().avatarUrl()));
    rows.addValue(utc(now));
    return conn.preparedQuery(UPSERT_SENDERS).execute(rows).map(result -> {
      List<Row> out = new ArrayList<>();
      result.forEach(out::add);
      return out;
    });
  }

  /** Our events for the foreign thread and reply ids the batch names, as the bridge last stored them. */
  private Future<Map<String, String>> findReferences(Outbox.Tx conn, List<Item> items) {
    Set<String> wanted = new LinkedHashSet<>();
    for (Item item : items) {
      EventWrite w = item.write;
      if (w.isInbound() && item.duplicateOf == null) {
        for (String ref : new String[] {w.threadId(), w.replyToExternalId()}) {
          if (ref != null) {
            wanted.add(w.originBridgeId() + "\u0000" + ref);
          }
        }
      }
    }
    if (wanted.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Tuple keys = Tuple.tuple(List.of(wanted.stream().map(k -> k.substring(0, k.indexOf('\u0000'))).toArray(String[]::new),
        wanted.stream().map(k -> k.substring(k.indexOf('\u0000') + 1)).toArray(String[]::new)));
    return conn.preparedQuery(FIND_REFERENCES).execute(keys).map(rows -> {
      Map<String, String> known = new HashMap<>();
      rows.forEach(row -> known.putIfAbsent(row.getString(0) + "\u0000" + row.getString(1), row.getString(2)));
      return known;
    });
  }

  /** A foreign thread or reply id the bridge has seen points at our event; replies are looked up in batch order. */
  private static List<Item> applyReferences(List<Item> items, Map<String, String> known) {
    Map<String, String> resolved = new HashMap<>(known);
    for (Item item : items) {
      if (!item.isNew()) {
        continue;
      }
      EventWrite w = item.write;
      item.threadId = w.threadId();
      item.replyTo = w.replyTo();
      if (!w.isInbound()) {
        continue;
      }
      if (w.threadId() != null) {
        item.threadId = resolved.getOrDefault(w.originBridgeId() + "\u0000" + w.threadId(), w.threadId());
      }
      if (w.replyToExternalId() != null) {
        item.replyTo = resolved.get(w.originBridgeId() + "\u0000" + w.replyToExternalId());
      }
      resolved.put(w.referenceKey(), item.newId);
    }
    return items;
  }

  private Future<List<StoredEvent>> insertEvents(Outbox.Tx conn, List<Item> items, Instant now) {
    List<Item> fresh = items.stream().filter(Item::isNew).toList();
    if (fresh.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    Tuple rows = Tuple.of(
        column(fresh, i -> i.newId),
        column(fresh, i -> i.write.roomId()),
        column(fresh, i -> i.senderId),
        column(fresh, i -> i.write.content().encode()),
        column(fresh, i -> i.threadId),
        column(fresh, i -> i.replyTo),
        column(fresh, i -> i.write.replyToExternalId()),
        column(fresh, i -> i.write.originBridgeId()),
        column(fresh, i -> i.write.externalMessageId()));
    OffsetDateTime createdAt = utc(now);
    rows.addValue(createdAt);
    rows.addValue(bridgeKind);
    // The last statement of the batch: COMMIT goes with it, so the rooms are unlocked as soon as it ran.
    return conn.commitAfter(conn.preparedQuery(INSERT_EVENTS).execute(rows)).map(queued -> {
      List<String> targets = new ArrayList<>(queued.size());
      queued.forEach(row -> targets.add(row.getString(0)));
      conn.queued(bridgeKind, targets);
      List<StoredEvent> stored = new ArrayList<>(fresh.size());
      for (Item item : fresh) {
        item.stored = true;
        stored.add(new StoredEvent(item.newId, item.write.roomId(), item.senderId, item.write.sender().fqid(),
            item.senderDisplayName, item.write.content(), item.threadId, item.replyTo, item.write.originBridgeId(), now));
      }
      return stored;
    });
  }

  private static String senderKey(Item item) {
    return item.write.roomId() + "\u0000" + item.write.sender().fqid();
  }

  private static String[] column(List<Item> items, Function<Item, String> value) {
    String[] column = new String[items.size()];
    for (int i = 0; i < column.length; i++) {
      column[i] = value.apply(items.get(i));
    }
    return column;
  }
}
