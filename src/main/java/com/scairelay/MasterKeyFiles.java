package com.scairelay;

import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import com.scairelay.store.Ids;
import com.scairelay.store.MasterKeys;
import com.scairelay.store.SecretFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * The master keys of a dev node, in its data directory (used when {@code secrets.master_key} is not
 * set): {@code master.key}, made on first start, and while a rotation runs {@code master.key.previous},
 * the key it replaces. Each holds one base64 key, mode 600.
 */
final class MasterKeyFiles {
  static final String CURRENT = "master.key";
  static final String PREVIOUS = "master.key.previous";

  private MasterKeyFiles() {
  }

  /** The data directory's keys; {@code master.key} is made if there is none. */
  static MasterKeys load(Path dataDir) {
    byte[] current = decode(Main.readOrCreate(dataDir.resolve(CURRENT),
        () -> Base64.getEncoder().encodeToString(Ids.randomBytes(RelayConfig.MASTER_KEY_BYTES))));
    Path previous = dataDir.resolve(PREVIOUS);
    return new MasterKeys(current, Files.exists(previous) ? List.of(decode(Main.readOrCreate(previous, () -> ""))) : List.of());
  }

  /**
   * Starts a rotation: the current key is kept as {@code master.key.previous}, then a new one becomes
   * {@code master.key} (each file replaced atomically, so a crash in between leaves keys that open
   * everything). A rotation that was started and not finished goes on with its keys. Answers whether a
   * new key was made; false when there is no key to rotate.
   */
  static boolean begin(Path dataDir) {
    Path current = dataDir.resolve(CURRENT);
    Path previous = dataDir.resolve(PREVIOUS);
    if (!Files.exists(current)) {
      return false;
    }
    MasterKeys keys = load(dataDir);
    if (!keys.previous().isEmpty()) {
      return true; // begun before: the new key is master.key already
    }
    try {
      String old = SecretFile.read(current);
      SecretFile.write(previous, old);
      SecretFile.write(current, Base64.getEncoder().encodeToString(Ids.randomBytes(RelayConfig.MASTER_KEY_BYTES)));
      return true;
    } catch (IOException e) {
      throw new ConfigException("cannot write " + current + " or " + previous + " (data.dir, env RELAY_DATA_DIR): " + e.getMessage());
    }
  }

  /** Ends a rotation once nothing is sealed with the previous key any more: it is deleted. */
  static void finish(Path dataDir) {
    Path previous = dataDir.resolve(PREVIOUS);
    try {
      Files.deleteIfExists(previous);
    } catch (IOException e) {
      throw new ConfigException("cannot delete " + previous + ": " + e.getMessage());
    }
  }

  private static byte[] decode(String base64) {
    try {
      byte[] key = Base64.getDecoder().decode(base64);
      if (key.length == RelayConfig.MASTER_KEY_BYTES) {
        return key;
      }
    } catch (IllegalArgumentException e) {
      // described below
    }
    throw new ConfigException("a master key file of the data directory is not " + RelayConfig.MASTER_KEY_BYTES + " bytes in base64");
  }
}
