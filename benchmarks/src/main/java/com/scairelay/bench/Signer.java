package com.scairelay.bench;

import io.vertx.core.buffer.Buffer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/** Signs inbound bodies as a foreign system does: {@code t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")}. */
final class Signer {
  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  private Signer() {
  }

  static String header(String secret, Buffer body) {
    return header(secret, body.getBytes());
  }

  static String header(String secret, byte[] body) {
    long ts = System.currentTimeMillis() / 1000;
    return "t=" + ts + ",v1=" + HexFormat.of().formatHex(hmac(secret, ts, body));
  }

  static byte[] hmac(String secret, long ts, byte[] body) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    mac.update(Long.toString(ts).getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) '.');
    mac.update(body);
    return mac.doFinal();
  }
}
