package com.scairelay.targets;

import io.vertx.core.json.JsonObject;

/**
 * What a queue actor needs of the thing it delivers to, whatever its kind: whether it sends now, how
 * many deliveries may be in flight, and what its connector needs to render one (settings, secret, credentials).
 */
public record Target(String id, boolean sending, int maxInFlight, String connector, JsonObject config, String secret,
                     JsonObject credentials) {

  public Target(String id, boolean sending, int maxInFlight, String connector, JsonObject config, String secret) {
    this(id, sending, maxInFlight, connector, config, secret, new JsonObject());
  }
}
