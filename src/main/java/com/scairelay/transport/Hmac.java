package com.scairelay.transport;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/** HMAC-SHA256 with one reusable {@link Mac} per thread: every signature of every connector is made here. */
public final class Hmac {
  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  });

  private Hmac() {
  }

  /** HMAC-SHA256 of the parts, in order, keyed with {@code key}. */
  public static byte[] sha256(byte[] key, byte[]... parts) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot key HmacSHA256", e);
    }
    for (byte[] part : parts) {
      mac.update(part);
    }
    return mac.doFinal();
  }

  /** The same, keyed with the UTF-8 bytes of {@code secret} (how bridge and webhook secrets are used). */
  public static byte[] sha256(String secret, byte[]... parts) {
    return sha256(secret.getBytes(StandardCharsets.UTF_8), parts);
  }
}
