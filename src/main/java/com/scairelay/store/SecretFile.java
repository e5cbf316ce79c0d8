package com.scairelay.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A credential kept in a file only its owner may read: one line, the value. A new file is mode 600 from
 * its first byte (written to a temporary file made 600, then renamed into place), never briefly readable
 * by other users; a file found readable by them (written by an earlier version) is made 600.
 */
public final class SecretFile {
  private static final Logger log = LoggerFactory.getLogger(SecretFile.class);
  public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private SecretFile() {
  }

  /** The value kept in {@code file}, or a new one from {@code create}, written there first. */
  public static String readOrCreate(Path file, Supplier<String> create) throws IOException {
    if (Files.exists(file)) {
      return read(file);
    }
    String value = create.get();
    write(file, value);
    return value;
  }

  /** The value kept in {@code file} (its content, trimmed); the file is made 600 if others could read it. */
  public static String read(Path file) throws IOException {
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
    if (!OWNER_ONLY.containsAll(mode)) {
      Files.setPosixFilePermissions(file, EnumSet.copyOf(OWNER_ONLY));
      log.warn("{} was mode {}, readable by other users; it is now mode 600", file, PosixFilePermissions.toString(mode));
    }
    String value = Files.readString(file).trim();
    if (value.isEmpty()) {
      throw new IOException(file + " is empty");
    }
    return value;
  }

  /** Writes {@code value} and a newline to {@code file} (replacing it), mode 600 from the first byte. */
  public static void write(Path file, String value) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap((value + "\n").getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
