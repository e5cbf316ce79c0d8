package com.scairelay.transport.discord;

import io.vertx.core.json.JsonObject;

/** One Gateway event (op 0) as Discord sent it: its name ({@code t}, e.g. {@code MESSAGE_CREATE}) and its {@code d}. */
public record Dispatch(String type, JsonObject data) {
}
