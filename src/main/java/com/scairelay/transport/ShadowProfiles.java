package com.scairelay.transport;

import io.vertx.core.Future;

/** Updates the name and avatar of a bridge's shadow participant, once the platform has told us them. */
public interface ShadowProfiles {
  Future<Void> update(String bridgeId, String externalId, String displayName, String avatarUrl);

  /** Profiles that are never updated (a unit test). */
  ShadowProfiles NONE = (bridgeId, externalId, displayName, avatarUrl) -> Future.succeededFuture();
}
