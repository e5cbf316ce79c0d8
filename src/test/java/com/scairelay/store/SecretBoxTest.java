package com.scairelay.store;

import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sealed format: which key sealed a value, and who can open it while a master key is rotated. */
class SecretBoxTest {
  static final byte[] OLD = Ids.randomBytes(32);
  static final byte[] NEW = Ids.randomBytes(32);

  @Test
  void aSealedValueNamesTheKeyThatSealedIt() {
    byte[] sealed = new SecretBox(OLD).seal("s3cret");

    assertThat(sealed[0]).isEqualTo((byte) 1);
    assertThat(HexFormat.of().formatHex(sealed, 1, 5)).isEqualTo(MasterKeys.idOf(OLD));
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("s3cret");
    assertThat(new SecretBox(OLD).open(sealed)).isEqualTo("s3cret");
  }

  @Test
  void duringARotationANodeOpensValuesOfBothKeysAndSealsWithTheNewOne() {
    SecretBox rotating = new SecretBox(new MasterKeys(NEW, List.of(OLD)));
    byte[] old = new SecretBox(OLD).seal("old value");
    byte[] fresh = rotating.seal("new value");

    assertThat(rotating.open(old)).isEqualTo("old value");
    assertThat(rotating.open(fresh)).isEqualTo("new value");
    assertThat(new SecretBox(NEW).open(fresh)).isEqualTo("new value");
    assertThat(rotating.sealedWithCurrentKey(fresh)).isTrue();
    assertThat(rotating.sealedWithCurrentKey(old)).isFalse();
  }

  @Test
  void aValueOfAKeyNoLongerConfiguredFailsNamingTheKeyIdOnly() {
    byte[] old = new SecretBox(OLD).seal("old value");

    assertThatThrownBy(() -> new SecretBox(NEW).open(old))
        .hasMessageContaining("sealed with master key " + MasterKeys.idOf(OLD))
        .hasMessageContaining("secrets.master_key (" + MasterKeys.idOf(NEW) + ")")
        .hasMessageContaining("secrets.previous_master_keys (none set)")
        .hasMessageNotContaining("old value");
  }

  @Test
  void valuesSealedBeforeKeyIdsStillOpenAndCountAsNotYetRotated() throws Exception {
    byte[] legacy = legacySeal(OLD, "from an earlier version");

    SecretBox box = new SecretBox(new MasterKeys(NEW, List.of(OLD)));
    assertThat(box.open(legacy)).isEqualTo("from an earlier version");
    assertThat(new SecretBox(OLD).sealedWithCurrentKey(legacy)).as("the old format is sealed again, to carry a key id").isFalse();
    assertThatThrownBy(() -> new SecretBox(NEW).open(legacy)).hasMessageContaining("cannot be decrypted");
  }

  @Test
  void aValueWhoseKeyIdWasAlteredDoesNotOpen() {
    byte[] sealed = new SecretBox(NEW).seal("value");
    byte[] relabelled = sealed.clone();
    System.arraycopy(MasterKeys.id(OLD), 0, relabelled, 1, 4);

    assertThatThrownBy(() -> new SecretBox(new MasterKeys(NEW, List.of(OLD))).open(relabelled)).hasMessageContaining("altered");
    assertThat(new SecretBox(NEW).sealedWithCurrentKey(sealed)).isTrue();
  }

  @Test
  void keysAreShownByIdNeverByValue() {
    MasterKeys keys = new MasterKeys(NEW, List.of(OLD, NEW, OLD));

    assertThat(keys.previous()).hasSize(1);
    assertThat(keys.toString()).isEqualTo("MasterKeys[" + MasterKeys.idOf(NEW) + " (also opening " + MasterKeys.idOf(OLD) + ")]");
    assertThat(MasterKeys.idOf(NEW)).hasSize(8).isNotEqualTo(MasterKeys.idOf(OLD));
  }

  /** {@code nonce || ciphertext+tag}, as versions before key ids sealed. */
  private static byte[] legacySeal(byte[] key, String secret) throws Exception {
    byte[] nonce = Ids.randomBytes(12);
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
    byte[] out = new byte[12 + sealed.length];
    System.arraycopy(nonce, 0, out, 0, 12);
    System.arraycopy(sealed, 0, out, 12, sealed.length);
    return out;
  }
}
