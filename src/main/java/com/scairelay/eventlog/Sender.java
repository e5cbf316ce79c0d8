package com.scairelay.eventlog;

import com.scairelay.store.Fqids;

/**
 * Who sent an event. A native participant is known by its fqid; a shadow participant stands for a
 * foreign user of one bridge and is known by {@code (bridgeId, externalId)}, its fqid derived from them
 * when the event log stores the event ({@link #named}).
 */
public record Sender(String fqid, String bridgeId, String externalId, String displayName, String avatarUrl) {

  /** {@code name} as posted: a bare name, or an fqid; the event log qualifies it. */
  public static Sender nativeUser(String name, String displayName) {
    return new Sender(name, null, null, displayName, null);
  }

  public static Sender shadow(String bridgeId, String externalId, String displayName, String avatarUrl) {
    return new Sender(null, bridgeId, externalId, displayName, avatarUrl);
  }

  public boolean isShadow() {
    return bridgeId != null;
  }

  /** This sender with its fully qualified id; an {@link IllegalArgumentException} says why it has none. */
  Sender named(Fqids fqids) {
    String qualified = isShadow() ? fqids.shadow(bridgeId, externalId) : fqids.nativeUser(fqid);
    return new Sender(qualified, bridgeId, externalId, displayName, avatarUrl);
  }
}
