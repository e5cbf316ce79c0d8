package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

/** What an inbound request asks for: an event to store, or an answer with nothing stored. */
public sealed interface Inbound {
  /**
   * Store the event, then answer as the adapter's {@link InboundAdapter#stored} says; {@code afterAnswer}
   * runs once it is stored (a platform that must be answered fast is asked for more only then).
   */
  record Store(InboundEvent event, Runnable afterAnswer) implements Inbound {
  }

  /** Answer {@code status} with {@code body} (null: no body) and store nothing. */
  record Reply(int status, JsonObject body) implements Inbound {
  }

  static Inbound store(InboundEvent event) {
    return new Store(event, () -> { });
  }

  /** A 200 that stores nothing, saying why: another channel's event, our own echo, a kind we do not bridge. */
  static Inbound ignored(String why) {
    return new Reply(200, new JsonObject().put("ok", true).put("ignored", why));
  }
}
