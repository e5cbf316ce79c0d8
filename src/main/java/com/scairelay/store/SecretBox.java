package com.scairelay.store;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Encrypts secrets that must be used again (bridge and webhook HMAC keys, platform credentials, token
 * signing keys) with the node's master keys: AES-256-GCM, a fresh 12-byte nonce per value, stored as
 * {@code 0x01 || key id (4 bytes) || nonce || ciphertext+tag} with the first five bytes authenticated
 * too. The key id says which master key sealed a value, so a node opens values of the current and the
 * previous keys alike while a rotation runs, and the rotation knows what it has done. Values written
 * before key ids ({@code nonce || ciphertext+tag}) are opened by trying each key.
 */
public final class SecretBox {
  private static final byte FORMAT = 1;
  private static final int HEADER_BYTES = 1 + MasterKeys.ID_BYTES;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  /** A master key and the header of the values it seals. */
  private record Key(SecretKeySpec spec, byte[] header) {
    static Key of(byte[] key) {
      byte[] header = new byte[HEADER_BYTES];
      header[0] = FORMAT;
      System.arraycopy(MasterKeys.id(key), 0, header, 1, MasterKeys.ID_BYTES);
      return new Key(new SecretKeySpec(key, "AES"), header);
    }
  }

  private final MasterKeys keys;
  private final List<Key> all;

  public SecretBox(MasterKeys keys) {
    this.keys = keys;
    this.all = keys.all().stream().map(Key::of).toList();
  }

  public SecretBox(byte[] masterKey) {
    this(MasterKeys.of(masterKey));
  }

  public MasterKeys keys() {
    return keys;
  }

  /** {@code secret} sealed with the current master key. */
  public byte[] seal(String secret) {
    Key key = all.get(0);
    byte[] nonce = Ids.randomBytes(NONCE_BYTES);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key.spec(), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(key.header());
      byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[HEADER_BYTES + NONCE_BYTES + sealed.length];
      System.arraycopy(key.header(), 0, out, 0, HEADER_BYTES);
      System.arraycopy(nonce, 0, out, HEADER_BYTES, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, HEADER_BYTES + NONCE_BYTES, sealed.length);
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

  /** Fails, naming the key id it found, when no master key of this node sealed the value or it was altered. */
  public String open(byte[] sealed) {
    Key named = namedKey(sealed);
    if (named != null) {
      String plain = decrypt(named.spec(), sealed, HEADER_BYTES, named.header());
      if (plain != null) {
        return plain;
      }
    }
    for (Key key : all) {
      String plain = decrypt(key.spec(), sealed, 0, null);
      if (plain != null) {
        return plain;
      }
    }
    String found = sealed.length > HEADER_BYTES && sealed[0] == FORMAT ? HexFormat.of().formatHex(sealed, 1, HEADER_BYTES) : null;
    throw new IllegalStateException("a stored secret cannot be decrypted: "
        + (found != null && named == null ? "it is sealed with master key " + found + ", which is neither" : "it was altered, or sealed with a key other than")
        + " secrets.master_key (" + keys.currentId() + ") nor one of secrets.previous_master_keys" + (keys.previous().isEmpty() ? " (none set)"
        : " (" + String.join(", ", keys.previousIds()) + ")"));
  }

  /** Whether the value is sealed with the current master key, in the current format: a rotation leaves it as it is. */
  public boolean sealedWithCurrentKey(byte[] sealed) {
    Key current = all.get(0);
    return namedKey(sealed) == current && decrypt(current.spec(), sealed, HEADER_BYTES, current.header()) != null;
  }

  /** The key whose header the value starts with, if it is one of ours. */
  private Key namedKey(byte[] sealed) {
    if (sealed.length < HEADER_BYTES + NONCE_BYTES + TAG_BITS / 8) {
      return null;
    }
    for (Key key : all) {
      if (Arrays.equals(sealed, 0, HEADER_BYTES, key.header(), 0, HEADER_BYTES)) {
        return key;
      }
    }
    return null;
  }

  /** The plain text of the value sealed from {@code offset} on, or null when {@code key} did not seal it. */
  private static String decrypt(SecretKeySpec key, byte[] sealed, int offset, byte[] aad) {
    if (sealed.length < offset + NONCE_BYTES + TAG_BITS / 8) {
      return null;
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, offset, NONCE_BYTES));
      if (aad != null) {
        cipher.updateAAD(aad);
      }
      byte[] plain = cipher.doFinal(sealed, offset + NONCE_BYTES, sealed.length - offset - NONCE_BYTES);
      return new String(plain, StandardCharsets.UTF_8);
    } catch (javax.crypto.AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }
}
