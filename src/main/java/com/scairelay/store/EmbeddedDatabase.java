package com.scairelay.store;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A private PostgreSQL in a data directory, for {@code dev} mode and tests. Binaries come from Maven
 * Central (zonky); the data survives restarts. A server left running by a node that was killed with
 * SIGKILL is shut down cleanly before a new one starts on the same directory. No connection gets in
 * without the password (scram-sha-256) kept next to the data, see {@link #start}.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
  public static final String DATABASE = "scairelay";

  /** The superuser every connection logs in as. */
  public static final String USER = "postgres";
  private static final String HBA = """
      # Written by ScaiRelay: every connection, over TCP or the Unix socket, needs the password of its role
      # (the postgres role's is kept in the data directory's pg.password, mode 600).
      # TYPE  DATABASE     USER  ADDRESS       METHOD
      local   all          all                 scram-sha-256
      host    all          all   127.0.0.1/32  scram-sha-256
      host    all          all   ::1/128       scram-sha-256
      local   replication  all                 scram-sha-256
      host    replication  all   127.0.0.1/32  scram-sha-256
      host    replication  all   ::1/128       scram-sha-256
      """;

  private final EmbeddedPostgres postgres;
  private final String password;
  private final Optional<ProcessHandle> postmaster;

  private EmbeddedDatabase(EmbeddedPostgres postgres, String password, Optional<ProcessHandle> postmaster) {
    this.postgres = postgres;
    this.password = password;
    this.postmaster = postmaster;
  }

  /** False once the server's postmaster process has gone (killed, crashed): dev mode then starts it again. */
  public boolean isRunning() {
    return postmaster.map(ProcessHandle::isAlive).orElse(true);
  }

  /**
   * Starts (or restarts) the server on {@code directory}. A {@code durable} server fsyncs every commit,
   * as dev mode must for "acknowledged means kept"; tests may trade that for speed.
   *
   * <p>Every connection needs the password of the {@code postgres} role, which is kept in
   * {@code passwordFile}: one line, 48 hex digits, mode 600, generated on the first start. A new cluster is
   * initialised with it ({@code initdb --auth=scram-sha-256 --pwfile}); a cluster an earlier version
   * initialised with {@code trust} gets the password and a {@code pg_hba.conf} without {@code trust} as
   * soon as it has started.
   */
  public static EmbeddedDatabase start(Path directory, Path passwordFile, int port, boolean durable) throws IOException {
    Files.createDirectories(directory);
    stopOrphan(directory);
    // zonky runs initdb when, and only when, postgresql.conf is missing.
    boolean fresh = !Files.exists(directory.resolve("postgresql.conf"));
    if (!fresh && !Files.exists(passwordFile) && !trusts(directory)) {
      throw new IOException("the PostgreSQL in " + directory + " needs the password kept in " + passwordFile
          + ", which is missing; restore that file");
    }
    String password = SecretFile.readOrCreate(passwordFile, () -> HexFormat.of().formatHex(Ids.randomBytes(24)));
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(directory)
        .setCleanDataDirectory(false)
        .setRegisterShutdownHook(false)
        .setPGStartupWait(Duration.ofSeconds(60))
        // zonky's own connections (start-up check, createDatabase) log in with it.
        .setConnectConfig("password", password)
        .setServerConfig("max_connections", "300")
        // Which statements cost the server its time (benchmarks read it; CREATE EXTENSION to query it).
        .setServerConfig("shared_preload_libraries", "pg_stat_statements")
        // The outbox grows by thousands of rows a second from empty: statistics a minute old make the
        // planner pick the wrong index for a target's queue head (measured: 150–700 ms instead of 0.2).
        .setServerConfig("autovacuum_naptime", "5s")
        // zonky starts PostgreSQL with -F (no fsync) and synchronous_commit=off; a later -c wins.
        .setServerConfig("fsync", durable ? "on" : "off")
        .setServerConfig("synchronous_commit", durable ? "on" : "off");
    if (fresh) {
      // zonky runs "initdb -A trust -U postgres ..." followed by "--key=value" for each locale setting: these
      // two come after its -A and win, so the cluster never accepts a connection without the password.
      builder.setLocaleConfig("auth", "scram-sha-256")
          .setLocaleConfig("pwfile", passwordFile.toAbsolutePath().toString());
    }
    if (port > 0) {
      builder.setPort(port);
    }
    EmbeddedPostgres started = builder.start();
    EmbeddedDatabase db = new EmbeddedDatabase(started, password, runningPostmaster(directory));
    try {
      db.requirePassword(directory);
      db.createDatabase(DATABASE);
    } catch (IOException | RuntimeException e) {
      try {
        db.close();
      } catch (IOException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    return db;
  }

  /** Connection options for a database of this server. */
  public PgConnectOptions connectOptions(String database) {
    return new PgConnectOptions()
        .setHost("127.0.0.1")
        .setPort(postgres.getPort())
        .setDatabase(database)
        .setUser(USER)
        .setPassword(password);
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
   * A cluster initialised by an earlier version lets every local user in as superuser ({@code trust}): give
   * the postgres role its password (hashed here, so the clear text reaches neither the server's logs nor
   * pg_stat_statements), replace pg_hba.conf and reload, then wait until a connection with a wrong password
   * is refused.
   */
  private void requirePassword(Path directory) throws IOException {
    if (!trusts(directory)) {
      return;
    }
    log.warn("The PostgreSQL in {} lets every local user in without a password (trust, set up by an earlier version); "
        + "giving the postgres role a password and requiring it", directory);
    try (Connection c = postgres.getPostgresDatabase().getConnection()) {
      c.unwrap(PGConnection.class).alterUserPassword(USER, password.toCharArray(), "scram-sha-256");
      SecretFile.write(directory.resolve("pg_hba.conf"), HBA.strip());
      try (var check = c.createStatement();
           var rules = check.executeQuery("SELECT count(*) FILTER (WHERE error IS NOT NULL OR auth_method = 'trust') FROM pg_hba_file_rules")) {
        rules.next();
        if (rules.getLong(1) != 0) {
          throw new IOException("the new " + directory.resolve("pg_hba.conf") + " was not taken as written");
        }
      }
      try (var reload = c.createStatement()) {
        reload.execute("SELECT pg_reload_conf()");
      }
    } catch (SQLException e) {
      throw new IOException("cannot set the password of the PostgreSQL in " + directory + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (loginWithWrongPasswordWorks()) {
      if (System.nanoTime() > deadline) {
        throw new IOException("the PostgreSQL in " + directory + " still lets users in without the password after its reload");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while the PostgreSQL in " + directory + " reloaded", e);
      }
    }
  }

  /** A wrong password, not none: without one the driver would look in ~/.pgpass. */
  private boolean loginWithWrongPasswordWorks() {
    Properties props = new Properties();
    props.setProperty("user", USER);
    props.setProperty("password", "not-" + password);
    try (Connection ignored = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres", props)) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  /** Whether pg_hba.conf has a line (not a comment) with the method {@code trust}. */
  static boolean trusts(Path directory) throws IOException {
    Path hba = directory.resolve("pg_hba.conf");
    if (!Files.exists(hba)) {
      return false;
    }
    for (String line : Files.readAllLines(hba)) {
      String[] fields = line.replaceFirst("#.*", "").trim().split("\\s+");
      for (String field : fields) {
        if (field.equals("trust")) {
          return true;
        }
      }
    }
    return false;
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
