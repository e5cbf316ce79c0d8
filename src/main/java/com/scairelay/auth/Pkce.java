package com.scairelay.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Pattern;

/** RFC 7636 (PKCE) with the {@code S256} method only: {@code plain} would send the secret in the clear. */
final class Pkce {
  static final String S256 = "S256";
  /** A code verifier, and an S256 challenge alike: 43 to 128 characters of {@code [A-Za-z0-9-._~]}. */
  private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9\\-._~]{43,128}");

  private Pkce() {
  }

  static boolean wellFormed(String value) {
    return value != null && VALUE.matcher(value).matches();
  }

  /** True when {@code BASE64URL(SHA-256(verifier))} is {@code challenge}, compared in constant time. */
  static boolean verifies(String verifier, String challenge) {
    if (!wellFormed(verifier) || challenge == null) {
      return false;
    }
    String computed = Base64.getUrlEncoder().withoutPadding().encodeToString(Hashes.sha256(verifier));
    return MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), challenge.getBytes(StandardCharsets.US_ASCII));
  }
}
