package com.scairelay.eventlog;

/**
 * Who sent an event. A native participant is known by its fqid; a shadow participant stands for a
 * foreign user of one bridge and is known by {@code (bridgeId, externalId)}, its fqid derived from them.
 */
public record Sender(String fqid, String bridgeId, String externalId, String displayName, String avatarUrl) {

  public static Sender nativeUser(String fqid, String displayName) {
    return new Sender(fqid, null, null, displayName, null);
  }

  public static Sender shadow(String bridgeId, String externalId, String displayName, String avatarUrl) {
    return new Sender(shadowFqid(bridgeId, externalId), bridgeId, externalId, displayName, avatarUrl);
  }

  /** Native fqids may not take this form, so nobody can speak as a shadow. */
  public static String shadowFqid(String bridgeId, String externalId) {
    return "bridge:" + bridgeId + ":" + externalId;
  }

  public boolean isShadow() {
    return bridgeId != null;
  }
}
