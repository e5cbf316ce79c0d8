package com.scairelay.transport;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/**
 * What a connector made of a delivery or a platform call: one {@code method} request with {@code headers}
 * to {@code url}, with {@code body} (JSON unless a {@code Content-Type} header says otherwise; null for none).
 */
public record TransportRequest(long deliveryId, HttpMethod method, String url, JsonObject headers, String body) {

  /** A JSON POST, the shape of every delivery. */
  public TransportRequest(long deliveryId, String url, JsonObject headers, String body) {
    this(deliveryId, HttpMethod.POST, url, headers, body);
  }

  /** A GET of a platform's API (no delivery behind it). */
  public static TransportRequest get(String url, JsonObject headers) {
    return new TransportRequest(0, HttpMethod.GET, url, headers, null);
  }
}
