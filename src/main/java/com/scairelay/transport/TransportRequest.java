package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

/**
 * What a connector made of a delivery: one POST of {@code body} with {@code headers} to {@code url}.
 * Travels as JSON on the node-local event bus to the transport verticles.
 */
public record TransportRequest(long deliveryId, String url, JsonObject headers, String body) {

  public JsonObject toJson() {
    return new JsonObject().put("delivery_id", deliveryId).put("url", url).put("headers", headers).put("body", body);
  }

  public static TransportRequest fromJson(JsonObject json) {
    return new TransportRequest(json.getLong("delivery_id"), json.getString("url"), json.getJsonObject("headers"), json.getString("body"));
  }
}
