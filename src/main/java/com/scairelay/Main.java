package com.scairelay;

import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import com.scairelay.store.EmbeddedDatabase;
import com.scairelay.store.Ids;
import com.scairelay.store.MasterKeys;
import com.scairelay.store.Migrations;
import com.scairelay.store.SecretFile;
import com.scairelay.store.Times;
import com.scairelay.cluster.ClusterNode;
import com.scairelay.metrics.NodeMetrics;
import com.scairelay.targets.Scheduler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgConnectOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code java -jar scairelay.jar dev}: a single node on a private PostgreSQL in the data directory,
 * credentials generated there on first start. {@code java -jar scairelay.jar run}: a production node on
 * the PostgreSQL of {@code pg.url}, every credential from configuration. Either with {@code --cluster}
 * joins the Hazelcast cluster of {@code cluster.*}. {@code java -jar scairelay.jar postgres}: only the
 * private PostgreSQL of the data directory, for a local cluster whose nodes share it ({@code cluster/start.sh}).
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  /**
   * The password of the embedded PostgreSQL's {@code postgres} role, in the data directory: one line,
   * mode 600. Tools on the same account (psql, the benchmarks) read it, e.g. {@code PGPASSWORD=$(cat data/pg.password)}.
   */
  static final String PG_PASSWORD_FILE = "pg.password";

  /** Held open for the life of the process: closing it would release the data directory lock. */
  @SuppressWarnings("unused")
  private static FileChannel dataDirLock;

  private Main() {
  }

  public static void main(String[] args) {
    String mode = args.length >= 1 ? args[0] : "";
    boolean cluster = args.length == 2 && args[1].equals("--cluster");
    boolean valid = switch (mode) {
      case "dev", "run" -> args.length == 1 || cluster;
      case "postgres" -> args.length == 1;
      case MasterKeyCommand.MODE -> true;
      default -> false;
    };
    if (!valid) {
      System.err.println("usage: java -jar scairelay.jar dev|run [--cluster] | postgres | " + MasterKeyCommand.USAGE + "\n"
          + "  dev: private PostgreSQL in RELAY_DATA_DIR; run: RELAY_PG_URL; --cluster: join the cluster of RELAY_CLUSTER_*;\n"
          + "  postgres: only the private PostgreSQL of RELAY_DATA_DIR, for nodes started with RELAY_PG_URL;\n"
          + "  rotate-master-key: seal every stored secret again with secrets.master_key (README, \"Rotating the master key\")");
      Shutdown.exit(2);
    }
    if (mode.equals(MasterKeyCommand.MODE)) {
      System.exit(MasterKeyCommand.run(java.util.Arrays.asList(args).subList(1, args.length), System.getenv()));
    }
    try {
      if (mode.equals("postgres")) {
        postgres(System.getenv());
        return;
      }
      Map<String, String> env = new HashMap<>(System.getenv());
      if (cluster) {
        env.put("RELAY_CLUSTER_ENABLED", "true");
      }
      start(mode.equals("dev"), env);
    } catch (ConfigException e) {
      System.err.println("scairelay: " + e.getMessage());
      Shutdown.exit(2);
    } catch (Exception e) {
      log.error("scairelay could not start", e);
      Shutdown.exit(1);
    }
  }

  /**
   * Starts a node and returns once it serves. A start that fails stops what it had started (the embedded
   * PostgreSQL too) and ends the process: exit code 2 with one line for what an operator can fix (a setting,
   * the port taken, PostgreSQL unreachable or refusing), 1 with the stack trace for anything else.
   */
  static void start(boolean dev, Map<String, String> env) throws IOException {
    RelayConfig config = RelayConfig.load(dev ? devDefaults(env) : env);
    LogSettings.apply(config.operations(), env);
    Shutdown shutdown = new Shutdown(config.operations().shutdownDeadline()).hook();
    try {
      serve(dev, config, shutdown);
    } catch (RuntimeException | IOException e) {
      ConfigException explained = StartFailures.explain(e, config);
      if (explained == null) {
        log.error("scairelay could not start", e);
      }
      shutdown.stop();
      if (explained != null) {
        System.err.println("scairelay: " + explained.getMessage());
      }
      Shutdown.exit(explained != null ? 2 : 1);
    }
  }

  private static void serve(boolean dev, RelayConfig config, Shutdown shutdown) throws IOException {
    Path dataDir = config.dataDir().toAbsolutePath().normalize();
    EmbeddedDatabase embedded = null;
    PgConnectOptions pg;
    String adminToken;
    MasterKeys masterKeys;
    if (dev) {
      createPrivateDirectory(dataDir);
      holdDataDirectory(dataDir);
      adminToken = config.adminToken().orElseGet(() -> readOrCreate(dataDir.resolve("admin.token"),
          () -> "dev_" + HexFormat.of().formatHex(Ids.randomBytes(24))));
      masterKeys = config.masterKey().isPresent() ? configuredKeys(config, "dev mode") : MasterKeyFiles.load(dataDir);
      if (config.pgUrl().isPresent()) {
        pg = StartFailures.pgOptions(config.pgUrl().get());
      } else {
        System.out.println("Starting the private PostgreSQL in " + dataDir.resolve("pg") + " ...");
        embedded = EmbeddedDatabase.start(dataDir.resolve("pg"), dataDir.resolve(PG_PASSWORD_FILE), config.pgEmbeddedPort(), true);
        shutdown.database().set(embedded);
        pg = embedded.connectOptions(EmbeddedDatabase.DATABASE);
      }
    } else {
      adminToken = required(config.adminToken(), "admin.token");
      masterKeys = configuredKeys(config, "run mode");
      pg = StartFailures.pgOptions(required(config.pgUrl(), "pg.url"));
    }
    int applied = StartFailures.migrate(pg, config.serverName().name(), embedded == null);
    log.info("schema is current ({} migrations applied now)", applied);

    Optional<ClusterNode> cluster = Optional.empty();
    NodeMetrics metrics = NodeMetrics.of(config.metrics());
    Vertx vertx;
    if (config.cluster().enabled()) {
      RelayConfig.Cluster c = config.cluster();
      System.out.println("Joining the cluster '" + c.name() + "' on " + c.host() + ":" + c.port() + " (members "
          + (c.members().isEmpty() ? "none configured" : String.join(",", c.members())) + ") ...");
      try {
        cluster = Optional.of(ClusterNode.join(c, new VertxOptions(), metrics).await(60, TimeUnit.SECONDS));
      } catch (ConfigException e) {
        throw e;
      } catch (Exception e) {
        throw new ConfigException("cannot join the cluster on " + c.host() + ":" + c.port() + " (cluster.host, cluster.port, env RELAY_CLUSTER_HOST, "
            + "RELAY_CLUSTER_PORT): " + StartFailures.rootMessage(e));
      }
      vertx = cluster.get().vertx();
      System.out.println("Joined: " + cluster.get().ownership().members().size() + " members, this node is " + cluster.get().nodeId());
    } else {
      vertx = metrics.vertx(new VertxOptions()).build();
    }
    shutdown.vertx(vertx);
    // PostgreSQL keeps microseconds: a clock that ticks in microseconds answers what it stores.
    RelayNode node = RelayNode.start(vertx, new NodeSetup(config, pg, adminToken, masterKeys, Times.microsecondClock(),
        Scheduler::of, cluster, metrics)).await();
    shutdown.node(node);
    if (embedded != null) {
      watch(vertx, shutdown, dataDir);
    }

    String url = "http://" + config.httpHost() + ":" + node.port();
    String version = Optional.ofNullable(Main.class.getPackage().getImplementationVersion()).orElse("(version unknown: not run from the jar)");
    log.info("ScaiRelay {} started: mode {}, listening on {}:{}, node {}, PostgreSQL {}{}, cluster {}", version, dev ? "dev" : "run",
        config.httpHost(), node.port(), node.nodeId(), StartFailures.describe(pg), embedded != null ? " (embedded, " + dataDir.resolve("pg") + ")" : "",
        config.cluster().enabled() ? "'" + config.cluster().name() + "' (" + config.cluster().host() + ":" + config.cluster().port() + ")" : "off");
    System.out.println("ScaiRelay " + (dev ? "dev" : "run") + " node listening on " + url);
    System.out.println("Console: " + url + "/");
    if (dev) {
      announceAdminToken(adminToken, config.adminToken().isPresent() ? null : dataDir.resolve("admin.token"), url);
    }
  }

  /**
   * The admin token on a terminal; where to read it when the output goes elsewhere (a log file, which
   * others may read or which may be kept): "Admin token: in /…/admin.token (mode 600)".
   */
  private static void announceAdminToken(String token, Path file, String url) {
    String bridges = url + "/v1/admin/bridges";
    if (onTerminal()) {
      System.out.println("Admin token: " + token);
      System.out.println("Try: curl -H 'Authorization: Bearer " + token + "' " + bridges);
    } else if (file != null) {
      System.out.println("Admin token: in " + file + " (mode 600)");
      System.out.println("Try: curl -H \"Authorization: Bearer $(cat '" + file + "')\" " + bridges);
    } else {
      System.out.println("Admin token: the configured admin.token (RELAY_ADMIN_TOKEN or the RELAY_CONFIG file)");
      System.out.println("Try: curl -H 'Authorization: Bearer <admin token>' " + bridges);
    }
  }

  /** Whether standard output is a terminal (from Java 22 on, System.console() is there also when it is not). */
  private static boolean onTerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true; // Java 17 to 21: a console is a terminal
    }
  }

  /** A data directory made here is the user's alone (700); one that exists is left as it is. */
  private static void createPrivateDirectory(Path dataDir) throws IOException {
    if (Files.isDirectory(dataDir)) {
      return;
    }
    if (dataDir.getParent() != null) {
      Files.createDirectories(dataDir.getParent());
    }
    try {
      Files.createDirectory(dataDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      if (!Files.isDirectory(dataDir)) {
        throw e;
      }
    }
  }

  /**
   * One dev node per data directory: the lock is held until the process ends (also by SIGKILL), so a
   * PostgreSQL found running on a directory we could lock is an orphan of a dead node.
   */
  static void holdDataDirectory(Path dataDir) throws IOException {
    FileChannel channel = FileChannel.open(dataDir.resolve("node.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    if (channel.tryLock() == null) {
      channel.close();
      throw new ConfigException("another node is running on the data directory " + dataDir
          + " (data.dir, env RELAY_DATA_DIR); stop it or choose another directory");
    }
    dataDirLock = channel;
  }

  /** Dev mode talks to endpoints on this machine unless told otherwise. */
  private static Map<String, String> devDefaults(Map<String, String> env) {
    Map<String, String> withDefaults = new HashMap<>(env);
    withDefaults.putIfAbsent("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    return withDefaults;
  }

  /**
   * Dev mode keeps its embedded PostgreSQL alive: should the server die (killed, crashed), it is started
   * again on the same directory and port, and the node's pools reconnect by themselves; meanwhile requests
   * are answered 503. If it cannot be started again, the node says why on one line and exits with 1.
   */
  private static void watch(Vertx vertx, Shutdown shutdown, Path dataDir) {
    AtomicReference<EmbeddedDatabase> database = shutdown.database();
    vertx.setPeriodic(1_000, id -> {
      if (database.get().isRunning()) {
        return;
      }
      vertx.cancelTimer(id);
      vertx.executeBlocking(() -> {
        int port = database.get().port();
        try {
          database.get().close(); // releases the data directory's lock; the server itself is gone already
        } catch (IOException | RuntimeException gone) {
          log.debug("closing the dead embedded PostgreSQL: {}", gone.toString());
        }
        log.warn("the embedded PostgreSQL in {} stopped; starting it again on port {}", dataDir.resolve("pg"), port);
        database.set(EmbeddedDatabase.start(dataDir.resolve("pg"), dataDir.resolve(PG_PASSWORD_FILE), port, true));
        log.info("the embedded PostgreSQL is running again");
        return null;
      }).onSuccess(v -> watch(vertx, shutdown, dataDir)).onFailure(err -> {
        log.error("restarting the embedded PostgreSQL failed", err);
        System.err.println("scairelay: the embedded PostgreSQL in " + dataDir.resolve("pg") + " stopped and could not be started again: "
            + err);
        Shutdown.exit(1);
      });
    });
  }

  /** Runs only the data directory's PostgreSQL until the process is stopped; prints its URL (password in pg.password). */
  private static void postgres(Map<String, String> env) throws IOException {
    RelayConfig config = RelayConfig.load(env);
    Path dataDir = config.dataDir().toAbsolutePath().normalize();
    createPrivateDirectory(dataDir);
    holdDataDirectory(dataDir);
    Shutdown shutdown = new Shutdown(config.operations().shutdownDeadline()).hook();
    EmbeddedDatabase database = EmbeddedDatabase.start(dataDir.resolve("pg"), dataDir.resolve(PG_PASSWORD_FILE), config.pgEmbeddedPort(), true);
    shutdown.database().set(database);
    System.out.println("PostgreSQL for ScaiRelay nodes: postgresql://postgres@127.0.0.1:" + database.port() + "/" + EmbeddedDatabase.DATABASE
        + " (password in " + dataDir.resolve(PG_PASSWORD_FILE) + ")");
    try {
      new java.util.concurrent.CountDownLatch(1).await(); // until SIGTERM runs the hook
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static <T> T required(Optional<T> value, String key) {
    return required(value, key, "run mode");
  }

  static <T> T required(Optional<T> value, String key, String who) {
    return value.orElseThrow(() -> new ConfigException(who + " needs " + key + " (env RELAY_"
        + key.toUpperCase().replace('.', '_') + "); see the configuration table in README.md"));
  }

  /** {@code secrets.master_key} (required) and {@code secrets.previous_master_keys}. */
  static MasterKeys configuredKeys(RelayConfig config, String who) {
    return new MasterKeys(required(config.masterKey(), "secrets.master_key", who), config.previousMasterKeys());
  }

  /** A credential kept in the data directory (mode 600 from its first byte), made on first start. */
  static String readOrCreate(Path file, Supplier<String> create) {
    try {
      return SecretFile.readOrCreate(file, create);
    } catch (IOException e) {
      throw new ConfigException("cannot read or write " + file + " (data.dir, env RELAY_DATA_DIR): " + e.getMessage());
    }
  }
}
