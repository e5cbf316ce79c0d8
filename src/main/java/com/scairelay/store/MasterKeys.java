package com.scairelay.store;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The master keys of a node: the current one seals, the previous ones (kept while a rotation runs,
 * README "Rotating the master key") only open. Each key is known by a 4-byte id derived from it
 * (HMAC-SHA256 of a fixed label), written in front of every value it seals and shown in logs; the id
 * tells nothing of the key.
 */
public record MasterKeys(byte[] current, List<byte[]> previous) {
  public static final int KEY_BYTES = 32;
  static final int ID_BYTES = 4;
  private static final byte[] ID_LABEL = "scairelay master key id".getBytes(StandardCharsets.UTF_8);

  public MasterKeys {
    check(current);
    List<byte[]> others = new ArrayList<>();
    for (byte[] key : previous) {
      check(key);
      if (!Arrays.equals(key, current) && others.stream().noneMatch(k -> Arrays.equals(k, key))) {
        others.add(key);
      }
    }
    previous = List.copyOf(others);
  }

  /** A single key: nothing sealed with another one can be opened. */
  public static MasterKeys of(byte[] current) {
    return new MasterKeys(current, List.of());
  }

  /** Every key, the current one first. */
  List<byte[]> all() {
    List<byte[]> all = new ArrayList<>(1 + previous.size());
    all.add(current);
    all.addAll(previous);
    return all;
  }

  /** The id of {@code key}, as written in front of the values it seals. */
  static byte[] id(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return Arrays.copyOf(mac.doFinal(ID_LABEL), ID_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** The id of {@code key} in hex, as logs and the rotation command show it. */
  public static String idOf(byte[] key) {
    return HexFormat.of().formatHex(id(key));
  }

  public String currentId() {
    return idOf(current);
  }

  public List<String> previousIds() {
    return previous.stream().map(MasterKeys::idOf).toList();
  }

  /** "1a2b3c4d", or "1a2b3c4d (also opening 5e6f7a8b, …)". */
  public String describe() {
    return previous.isEmpty() ? currentId() : currentId() + " (also opening " + String.join(", ", previousIds()) + ")";
  }

  private static void check(byte[] key) {
    if (key == null || key.length != KEY_BYTES) {
      throw new IllegalArgumentException("a master key must be " + KEY_BYTES + " bytes");
    }
  }

  @Override
  public String toString() {
    return "MasterKeys[" + describe() + "]";
  }
}
