package com.scairelay.transport;

import io.vertx.core.Future;

import java.util.Optional;

/**
 * Which of our events a platform's message id stands for, per bridge: a message the platform sent in
 * (its id stored with the event) or one a delivery created there (the id the platform answered). Threads,
 * edits, deletes and echo suppression read it.
 */
public interface ForeignIds {
  /** Our event behind {@code foreignId} on {@code bridgeId}, if the bridge has seen it. */
  Future<Optional<ForeignMessage>> find(String bridgeId, String foreignId);

  /** {@code ours}: a delivery of ours created the foreign message (so hearing it again is an echo). */
  record ForeignMessage(String eventId, boolean ours) {
  }

  /** A map that knows nothing (a node without bridges, a unit test). */
  ForeignIds NONE = (bridgeId, foreignId) -> Future.succeededFuture(Optional.empty());
}
