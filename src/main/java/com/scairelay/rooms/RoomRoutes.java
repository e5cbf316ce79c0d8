package com.scairelay.rooms;

import com.scairelay.http.Scopes;
import com.scairelay.eventlog.EventLog;
import com.scairelay.http.Guard;
import com.scairelay.http.Routes;
import com.scairelay.eventlog.EventWrite;
import com.scairelay.eventlog.Sender;
import com.scairelay.eventlog.StoredEvent;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.store.Fqids;
import com.scairelay.store.Ids;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static com.scairelay.http.Responses.json;

/**
 * Rooms: create, post a native event, page through events, list participants, and the live stream;
 * {@code openStreams} counts the node's open streams ({@link #openStreams(MeterRegistry)}).
 */
public record RoomRoutes(Guard guard, RoomStore rooms, EventLog eventLog, Fqids fqids, Clock clock, AtomicInteger openStreams)
    implements Routes {
  /**
   * The subprotocol the stream speaks, selected when the client offers it (a browser offers it with its
   * {@code bearer.<token>} entry and fails the connection unless the server selects one of its offers).
   */
  public static final String STREAM_PROTOCOL = "scairelay.v1";
  static final int DEFAULT_PAGE = 50;
  static final int MAX_PAGE = 500;

  /** {@code relay_websockets_open}: the room streams open on this node; one counter for all its event loops. */
  public static AtomicInteger openStreams(MeterRegistry registry) {
    AtomicInteger open = new AtomicInteger();
    Gauge.builder("relay.websockets.open", open, AtomicInteger::get)
        .description("Room streams (WebSockets) open on this node").register(registry);
    return open;
  }


  @Override
  public void mount(Router router) {
    router.post("/v1/rooms").handler(guard.require(Scopes.ROOMS_WRITE)).handler(this::create);
    router.get("/v1/rooms/:id").handler(guard.require(Scopes.ROOMS_READ)).handler(this::get);
    router.post("/v1/rooms/:id/events").handler(guard.require(Scopes.ROOMS_WRITE)).handler(this::post);
    router.get("/v1/rooms/:id/events").handler(guard.require(Scopes.ROOMS_READ)).handler(this::events);
    router.get("/v1/rooms/:id/participants").handler(guard.require(Scopes.ROOMS_READ)).handler(this::participants);
    router.get("/v1/rooms/:id/stream").handler(guard.require(Scopes.ROOMS_READ)).handler(new RoomStream(rooms, openStreams));
  }

  private void create(RoutingContext ctx) {
    String name = JsonBody.requiredString(JsonBody.of(ctx), "name", 200);
    rooms.create(new RoomStore.Room(Ids.newId("room"), name, clock.instant()))
        .onSuccess(room -> json(ctx, 201, room.toJson()))
        .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    room(ctx).onSuccess(room -> json(ctx, 200, room.toJson())).onFailure(ctx::fail);
  }

  /**
   * A native message: {@code {sender, display_name?, content:{msgtype,…}, thread_id?, reply_to?}}; the
   * sender a bare name ({@code alice}, stored as {@code @alice:<server.name>}) or an fqid ({@code @x:y}).
   */
  private void post(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    String sender = fqid(JsonBody.requiredString(body, "sender", 255));
    String displayName = JsonBody.optionalString(body, "display_name", 255);
    JsonObject content = JsonBody.requiredObject(body, "content");
    JsonBody.requiredString(content, "content.msgtype", 64);
    String threadId = JsonBody.optionalString(body, "thread_id", 255);
    String replyTo = JsonBody.optionalString(body, "reply_to", 255);
    EventWrite write = new EventWrite(ctx.pathParam("id"), Sender.nativeUser(sender, displayName), content,
        threadId, replyTo, null, null, null);
    eventLog.append(write)
        .onSuccess(appended -> json(ctx, 201, new JsonObject().put("event_id", appended.eventId())))
        .onFailure(ctx::fail);
  }

  private String fqid(String sender) {
    try {
      return fqids.nativeUser(sender);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest("field 'sender': " + e.getMessage());
    }
  }

  /** Oldest first; {@code after} is the id of the last event the caller has, {@code next_after} the cursor to pass next. */
  private void events(RoutingContext ctx) {
    int limit = JsonBody.optionalInt(ctx, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
    String after = ctx.request().getParam("after");
    room(ctx)
        .compose(room -> after == null || after.isEmpty()
            ? Future.succeededFuture(0L)
            : rooms.sequenceOf(room.id(), after).map(seq -> seq.orElseThrow(
                () -> ProblemException.badRequest("query parameter 'after': room " + room.id() + " has no event " + after))))
        .compose(seq -> rooms.eventsAfter(ctx.pathParam("id"), seq, limit))
        .onSuccess(events -> json(ctx, 200, page(events, after)))
        .onFailure(ctx::fail);
  }

  private static JsonObject page(List<StoredEvent> events, String after) {
    JsonArray out = new JsonArray();
    events.forEach(e -> out.add(e.toJson()));
    String next = events.isEmpty() ? (after == null || after.isEmpty() ? null : after) : events.get(events.size() - 1).id();
    return new JsonObject().put("events", out).put("next_after", next);
  }

  private void participants(RoutingContext ctx) {
    room(ctx)
        .compose(room -> rooms.participants(room.id()))
        .onSuccess(list -> json(ctx, 200, new JsonObject().put("participants", new JsonArray(List.copyOf(list)))))
        .onFailure(ctx::fail);
  }

  private Future<RoomStore.Room> room(RoutingContext ctx) {
    return existing(rooms, ctx.pathParam("id"));
  }

  static Future<RoomStore.Room> existing(RoomStore rooms, String id) {
    return rooms.find(id).map(found -> found.orElseThrow(() -> ProblemException.notFound("no room " + id)));
  }
}
