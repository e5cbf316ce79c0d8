package com.scairelay.support;

import com.scairelay.store.EmbeddedDatabase;
import com.scairelay.store.Migrations;
import io.vertx.pgclient.PgConnectOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL for the whole test run (the same embedded server {@code dev} mode uses),
 * started on first use and stopped when the JVM exits. Each test class gets a fresh, migrated database.
 */
public final class TestPostgres {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedDatabase server;

  private TestPostgres() {
  }

  public static synchronized EmbeddedDatabase server() {
    if (server == null) {
      try {
        Path dir = Files.createTempDirectory("scairelay-test-pg");
        server = EmbeddedDatabase.start(dir.resolve("pg"), dir.resolve("pg.password"), 0, false);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            server.close();
          } catch (IOException ignored) {
            // the JVM is going away
          }
        }));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return server;
  }

  /** A new database with the schema applied. */
  public static PgConnectOptions freshDatabase() {
    String name = "t" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    server().createDatabase(name);
    PgConnectOptions options = server().connectOptions(name);
    Migrations.apply(options, TestNode.SERVER_NAME); // names no one: a new database has no participants
    return options;
  }
}
