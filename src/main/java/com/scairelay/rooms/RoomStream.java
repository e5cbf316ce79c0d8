package com.scairelay.rooms;

import com.scairelay.eventlog.EventLog;
import com.scairelay.http.ProblemException;
import com.scairelay.http.RequestLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GET /v1/rooms/{id}/stream}: a WebSocket that receives every new event of the room, from
 * whichever node stored it, as one JSON text frame. A client that cannot keep up is closed with
 * 1013 (try again later) rather than silently skipped: it reconnects and catches up with
 * {@code GET /v1/rooms/{id}/events?after=}.
 */
final class RoomStream implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(RoomStream.class);

  private final RoomStore rooms;
  private final AtomicInteger open;

  RoomStream(RoomStore rooms, AtomicInteger open) {
    this.rooms = rooms;
    this.open = open;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (!"websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      throw ProblemException.badRequest("this is a WebSocket endpoint: connect with 'Upgrade: websocket'");
    }
    // The room is looked up before the upgrade: hold the request so the handshake can still take it.
    ctx.request().pause();
    RoomRoutes.existing(rooms, ctx.pathParam("id"))
        .compose(room -> stream(ctx, room.id()))
        .onFailure(ctx::fail);
  }

  /**
   * Subscribes before the handshake, so no event committed once the client holds an open socket is
   * missed: what arrives before the upgrade completes (both run on this request's event loop) is sent
   * first, in order.
   */
  @SuppressWarnings("unchecked")
  private Future<ServerWebSocket> stream(RoutingContext ctx, String roomId) {
    MessageConsumer<String>[] consumer = new MessageConsumer[1];
    ServerWebSocket[] socket = new ServerWebSocket[1];
    List<String> early = new ArrayList<>();
    consumer[0] = ctx.vertx().eventBus().localConsumer(EventLog.roomAddress(roomId), message -> {
      ServerWebSocket ws = socket[0];
      if (ws == null) {
        early.add(message.body());
        return;
      }
      if (ws.isClosed()) {
        return;
      }
      if (ws.writeQueueFull()) {
        // Stop feeding it at once (one log line, not one per event); a client that does not read the
        // close frame either is dropped by the WebSocket closing timeout and http.idle_timeout_seconds.
        consumer[0].unregister();
        log.info("closing a slow stream client of room {}", roomId);
        ws.close((short) 1013, "too slow: reconnect and catch up with GET /v1/rooms/" + roomId + "/events?after=");
        return;
      }
      ws.writeTextMessage(message.body());
    });
    return ctx.request().toWebSocket()
        .onSuccess(ws -> {
          RequestLog.upgraded(ctx);
          socket[0] = ws;
          open.incrementAndGet();
          early.forEach(ws::writeTextMessage);
          early.clear();
          ws.closeHandler(v -> {
            open.decrementAndGet();
            consumer[0].unregister();
          });
        })
        .onFailure(err -> consumer[0].unregister());
  }
}
