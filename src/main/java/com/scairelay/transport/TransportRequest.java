package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

/** What a connector made of a delivery: one POST of {@code body} with {@code headers} to {@code url}. */
public record TransportRequest(long deliveryId, String url, JsonObject headers, String body) {
}
