package com.scairelay.transport;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How a platform posts into a bridge: {@code POST /v1/bridges/{id}/<path>}, verified, then read into a
 * room event to store, or answered at once when there is nothing to store (a URL check, another
 * channel's event, our own echo).
 */
public interface InboundAdapter {
  /** The path under {@code /v1/bridges/{id}/}, e.g. {@code inbound}. */
  String path();

  /** Empty when the request is signed as the platform signs within {@code tolerance}; otherwise why not. */
  Optional<String> verify(MultiMap headers, Buffer body, InboundBridge bridge, Instant now, Duration tolerance);

  /**
   * What a verified request asks for; a 400 {@code ProblemException} naming the field when it is
   * wrong. May look up our events behind foreign ids and ask the platform (a sender's profile).
   */
  Future<Inbound> read(MultiMap headers, Buffer body, InboundBridge bridge, InboundContext context);

  /** The answer once the event is stored ({@code duplicate}: it was stored before as {@code eventId}). */
  default Inbound.Reply stored(String eventId, boolean duplicate) {
    return new Inbound.Reply(duplicate ? 200 : 202, new JsonObject().put("event_id", eventId).put("duplicate", duplicate));
  }
}
