package com.scairelay.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretFileTest {
  @Test
  void aNewSecretIsWrittenOnceMode600AndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("admin.token");
    AtomicInteger made = new AtomicInteger();
    assertThat(SecretFile.readOrCreate(file, () -> "s3cret-" + made.incrementAndGet())).isEqualTo("s3cret-1");
    assertThat(SecretFile.readOrCreate(file, () -> "s3cret-" + made.incrementAndGet())).isEqualTo("s3cret-1");
    assertThat(made).hasValue(1);
    assertThat(Files.readString(file)).isEqualTo("s3cret-1\n");
    assertThat(mode(file)).isEqualTo("rw-------");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void aSecretOthersCouldReadIsMadeMode600(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("master.key");
    Files.writeString(file, "old\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(SecretFile.readOrCreate(file, () -> "new")).isEqualTo("old");
    assertThat(mode(file)).isEqualTo("rw-------");
  }

  @Test
  void anEmptySecretIsAnError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pg.password");
    Files.createFile(file, PosixFilePermissions.asFileAttribute(SecretFile.OWNER_ONLY));
    assertThatThrownBy(() -> SecretFile.readOrCreate(file, () -> "new")).isInstanceOf(IOException.class).hasMessageContaining("is empty");
  }

  private static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
