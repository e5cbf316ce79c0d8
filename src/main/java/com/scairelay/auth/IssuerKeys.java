package com.scairelay.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The signing keys of an external issuer, read from its JWK set, and the check of a JWT signature
 * against them. RS256/384/512 and ES256/384; anything else ({@code none}, HMAC) is refused. A key that
 * cannot be read (an encryption key, an unknown type) is skipped, not fatal.
 */
final class IssuerKeys {
  /** A JWS algorithm: its JCA name, the key type it needs, and for EC the curve and signature length. */
  private record Algorithm(String jca, String kty, String crv, int signatureBytes) {
  }

  private static final Map<String, Algorithm> ALGORITHMS = Map.of(
      "RS256", new Algorithm("SHA256withRSA", "RSA", null, 0),
      "RS384", new Algorithm("SHA384withRSA", "RSA", null, 0),
      "RS512", new Algorithm("SHA512withRSA", "RSA", null, 0),
      "ES256", new Algorithm("SHA256withECDSAinP1363Format", "EC", "P-256", 64),
      "ES384", new Algorithm("SHA384withECDSAinP1363Format", "EC", "P-384", 96));
  private static final Map<String, String> CURVES = Map.of("P-256", "secp256r1", "P-384", "secp384r1");

  private record Key(String kid, String kty, String crv, String alg, PublicKey key) {
  }

  private final List<Key> keys;

  private IssuerKeys(List<Key> keys) {
    this.keys = keys;
  }

  static IssuerKeys of(JsonObject jwks) {
    Object listed = jwks.getValue("keys");
    if (!(listed instanceof JsonArray array)) {
      throw new IllegalArgumentException("the JWK set has no 'keys' array");
    }
    List<Key> keys = new ArrayList<>();
    for (Object entry : array) {
      if (entry instanceof JsonObject jwk && !"enc".equals(jwk.getValue("use"))) {
        try {
          keys.add(new Key(jwk.getString("kid"), jwk.getString("kty"), jwk.getString("crv"), jwk.getString("alg"), publicKey(jwk)));
        } catch (GeneralSecurityException | RuntimeException skipped) {
          // not a signing key we can use
        }
      }
    }
    return new IssuerKeys(List.copyOf(keys));
  }

  int size() {
    return keys.size();
  }

  boolean knows(String kid) {
    return keys.stream().anyMatch(k -> kid.equals(k.kid()));
  }

  static boolean supported(String alg) {
    return alg != null && ALGORITHMS.containsKey(alg);
  }

  /** True when one of the keys fit for {@code alg} (and named {@code kid}, when given) signed {@code signingInput}. */
  boolean verifies(String alg, String kid, byte[] signingInput, byte[] signature) {
    Algorithm algorithm = ALGORITHMS.get(alg);
    if (algorithm == null || (algorithm.signatureBytes() > 0 && signature.length != algorithm.signatureBytes())) {
      return false;
    }
    for (Key key : keys) {
      boolean fits = (kid == null || kid.equals(key.kid())) && algorithm.kty().equals(key.kty())
          && (algorithm.crv() == null || algorithm.crv().equals(key.crv())) && (key.alg() == null || key.alg().equals(alg));
      if (fits && verifies(algorithm, key.key(), signingInput, signature)) {
        return true;
      }
    }
    return false;
  }

  private static boolean verifies(Algorithm algorithm, PublicKey key, byte[] input, byte[] signature) {
    try {
      Signature verifier = Signature.getInstance(algorithm.jca());
      verifier.initVerify(key);
      verifier.update(input);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static PublicKey publicKey(JsonObject jwk) throws GeneralSecurityException {
    String kty = jwk.getString("kty");
    if ("RSA".equals(kty)) {
      return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(number(jwk, "n"), number(jwk, "e")));
    }
    if ("EC".equals(kty) && CURVES.containsKey(jwk.getString("crv"))) {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec(CURVES.get(jwk.getString("crv"))));
      ECParameterSpec curve = parameters.getParameterSpec(ECParameterSpec.class);
      return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(number(jwk, "x"), number(jwk, "y")), curve));
    }
    throw new GeneralSecurityException("unsupported key type " + kty);
  }

  private static BigInteger number(JsonObject jwk, String field) {
    return new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString(field)));
  }
}
