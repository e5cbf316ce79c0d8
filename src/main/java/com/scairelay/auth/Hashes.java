package com.scairelay.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How client secrets and API keys are stored: SHA-256 of the string. They are 32 random bytes, so a
 * slow password hash would add nothing but latency; the database never holds what could be replayed.
 */
final class Hashes {
  private Hashes() {
  }

  static byte[] sha256(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static boolean matches(String secret, byte[] hash) {
    return hash != null && MessageDigest.isEqual(sha256(secret), hash);
  }
}
