package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

/**
 * What an actor asks a transport to send: one POST of {@code body} with {@code headers} (the target
 * kind signs it before). Travels as JSON on the event bus.
 */
public record TransportRequest(long deliveryId, String url, JsonObject headers, String body) {

  public static String address(String transport) {
    return "relay.transport." + transport;
  }

  public JsonObject toJson() {
    return new JsonObject().put("delivery_id", deliveryId).put("url", url).put("headers", headers).put("body", body);
  }

  public static TransportRequest fromJson(JsonObject json) {
    return new TransportRequest(json.getLong("delivery_id"), json.getString("url"), json.getJsonObject("headers"), json.getString("body"));
  }
}
