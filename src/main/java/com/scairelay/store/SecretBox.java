package com.scairelay.store;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.security.GeneralSecurityException;

/**
 * Encrypts secrets that must be used again (bridge and webhook HMAC keys) with the node's master key:
 * AES-256-GCM, a fresh 12-byte nonce per value, stored as {@code nonce || ciphertext+tag}.
 */
public final class SecretBox {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;

  public SecretBox(byte[] masterKey) {
    if (masterKey.length != 32) {
      throw new IllegalArgumentException("the master key must be 32 bytes");
    }
    this.key = new SecretKeySpec(masterKey, "AES");
  }

  public byte[] seal(String secret) {
    byte[] nonce = Ids.randomBytes(NONCE_BYTES);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /** The secret of a row with {@code secret_enc}, {@code previous_secret_enc} and {@code previous_secret_expires_at}, opened. */
  public RotatingSecret<String> openRotating(Row row) {
    Buffer previous = row.getBuffer("previous_secret_enc");
    OffsetDateTime expires = row.getOffsetDateTime("previous_secret_expires_at");
    return new RotatingSecret<>(open(row.getBuffer("secret_enc").getBytes()), previous == null ? null : open(previous.getBytes()),
        expires == null ? null : expires.toInstant());
  }

  /** Fails when the value was sealed with another master key or was altered. */
  public String open(byte[] sealed) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      byte[] plain = cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
      return new String(plain, StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a stored secret cannot be decrypted: wrong secrets.master_key?", e);
    }
  }
}
