package com.scairelay.store;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A private PostgreSQL in a data directory, for {@code dev} mode and tests. Binaries come from Maven
 * Central (zonky); the data survives restarts. A server left running by a node that was killed with
 * SIGKILL is shut down cleanly before a new one starts on the same directory.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
  public static final String DATABASE = "scairelay";

  private final EmbeddedPostgres postgres;

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts (or restarts) the server on {@code directory}. A {@code durable} server fsyncs every commit,
   * as dev mode must for "acknowledged means kept"; tests may trade that for speed.
   */
  public static EmbeddedDatabase start(Path directory, int port, boolean durable) throws IOException {
    Files.createDirectories(directory);
    stopOrphan(directory);
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(directory)
        .setCleanDataDirectory(false)
        .setRegisterShutdownHook(false)
        .setPGStartupWait(Duration.ofSeconds(60))
        .setServerConfig("max_connections", "300")
        // Which statements cost the server its time (benchmarks read it; CREATE EXTENSION to query it).
        .setServerConfig("shared_preload_libraries", "pg_stat_statements")
        // The outbox grows by thousands of rows a second from empty: statistics a minute old make the
        // planner pick the wrong index for a target's queue head (measured: 150–700 ms instead of 0.2).
        .setServerConfig("autovacuum_naptime", "5s")
        // zonky starts PostgreSQL with -F (no fsync) and synchronous_commit=off; a later -c wins.
        .setServerConfig("fsync", durable ? "on" : "off")
        .setServerConfig("synchronous_commit", durable ? "on" : "off");
    if (port > 0) {
      builder.setPort(port);
    }
    EmbeddedDatabase db = new EmbeddedDatabase(builder.start());
    db.createDatabase(DATABASE);
    return db;
  }

  /** Connection options for a database of this server. */
  public PgConnectOptions connectOptions(String database) {
    return new PgConnectOptions()
        .setHost("127.0.0.1")
        .setPort(postgres.getPort())
        .setDatabase(database)
        .setUser("postgres")
        .setPassword("postgres");
  }

  public int port() {
    return postgres.getPort();
  }

  /** Creates a database unless it exists. */
  public void createDatabase(String name) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("database name must be a plain identifier: " + name);
    }
    try (Connection c = postgres.getPostgresDatabase().getConnection();
         var exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, name);
      try (var rs = exists.executeQuery()) {
        if (!rs.next()) {
          try (var create = c.createStatement()) {
            create.execute("CREATE DATABASE " + name);
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }

  /**
   * A node killed with SIGKILL leaves its postmaster running with the data directory locked. Ask it
   * to shut down (SIGTERM: no client is left, so a smart shutdown finishes at once) and wait.
   */
  static void stopOrphan(Path directory) throws IOException {
    Optional<ProcessHandle> orphan = runningPostmaster(directory);
    if (orphan.isEmpty()) {
      return;
    }
    ProcessHandle process = orphan.get();
    log.warn("A PostgreSQL server (pid {}) from an earlier run still holds {}; shutting it down", process.pid(), directory);
    process.destroy();
    try {
      process.onExit().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("the PostgreSQL server left running on " + directory + " (pid " + process.pid()
          + ") did not stop within 60 s; stop it by hand and start again", e);
    }
  }

  private static Optional<ProcessHandle> runningPostmaster(Path directory) throws IOException {
    Path pidFile = directory.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().command().map(cmd -> cmd.endsWith("postgres")).orElse(false));
  }
}
