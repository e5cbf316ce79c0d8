package com.scairelay.rooms;

import com.scairelay.eventlog.EventLog;
import com.scairelay.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/rooms/{id}/stream}: a WebSocket that receives every new event of the room, from
 * whichever node stored it, as one JSON text frame. A client that cannot keep up is closed with
 * 1013 (try again later) rather than silently skipped: it reconnects and catches up with
 * {@code GET /v1/rooms/{id}/events?after=}.
 */
final class RoomStream implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(RoomStream.class);

  private final RoomStore rooms;

  RoomStream(RoomStore rooms) {
    this.rooms = rooms;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (!"websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      throw ProblemException.badRequest("this is a WebSocket endpoint: connect with 'Upgrade: websocket'");
    }
    // The room is looked up before the upgrade: hold the request so the handshake can still take it.
    ctx.request().pause();
    RoomRoutes.existing(rooms, ctx.pathParam("id"))
        .compose(room -> ctx.request().toWebSocket().map(ws -> {
          stream(ctx, room.id(), ws);
          return ws;
        }))
        .onFailure(ctx::fail);
  }

  @SuppressWarnings("unchecked")
  private void stream(RoutingContext ctx, String roomId, ServerWebSocket ws) {
    MessageConsumer<String>[] consumer = new MessageConsumer[1];
    consumer[0] = ctx.vertx().eventBus().localConsumer(EventLog.roomAddress(roomId), message -> {
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
    ws.closeHandler(v -> consumer[0].unregister());
  }
}
