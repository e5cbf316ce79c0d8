package com.scairelay.store;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Opaque, unguessable identifiers with a readable prefix: {@code room_3f9c…}. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private Ids() {
  }

  public static String newId(String prefix) {
    return prefix + "_" + HEX.formatHex(randomBytes(12));
  }

  public static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
