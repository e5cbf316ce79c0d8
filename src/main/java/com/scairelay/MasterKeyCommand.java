package com.scairelay;

import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import com.scairelay.store.EmbeddedDatabase;
import com.scairelay.store.MasterKeyRotation;
import com.scairelay.store.MasterKeys;
import com.scairelay.store.Migrations;
import com.scairelay.store.SecretBox;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar scairelay.jar rotate-master-key [--dev] [--batch-size=<rows>]}: seals every stored
 * secret again with the current master key, in place (README, "Rotating the master key").
 *
 * <p>Without {@code --dev} it reads the configuration the nodes read: {@code pg.url}, {@code secrets.master_key}
 * (the key to seal with) and {@code secrets.previous_master_keys} (the keys it replaces). With {@code --dev}
 * it works on a stopped dev node's data directory: a new {@code master.key} is made, the old one kept as
 * {@code master.key.previous} until nothing needs it (configured keys and {@code pg.url} win, as for
 * {@code dev}). Exit 0: every secret is sealed with the current key; 2: bad input, on one line (a setting,
 * PostgreSQL unreachable, secrets that no configured key opens); 1: anything else.
 */
final class MasterKeyCommand {
  static final String MODE = "rotate-master-key";
  static final String USAGE = MODE + " [--dev] [--batch-size=<rows>]";
  private static final Logger log = LoggerFactory.getLogger(MasterKeyCommand.class);
  private static final int DEFAULT_BATCH_SIZE = 500;
  private static final int MAX_BATCH_SIZE = 10_000;
  private static final String PREFIX = MODE + ": ";

  private MasterKeyCommand() {
  }

  /** Runs the command; answers its exit code. */
  static int run(List<String> args, Map<String, String> env) {
    boolean dev = false;
    int batchSize = DEFAULT_BATCH_SIZE;
    for (String arg : args) {
      if (arg.equals("--dev")) {
        dev = true;
      } else if (batchSize(arg) > 0) {
        batchSize = batchSize(arg);
      } else {
        System.err.println("scairelay: unknown argument '" + arg + "'; usage: java -jar scairelay.jar " + USAGE
            + " (--batch-size from 1 to " + MAX_BATCH_SIZE + ")");
        return 2;
      }
    }
    EmbeddedDatabase embedded = null;
    try {
      RelayConfig config = RelayConfig.load(env);
      Path dataDir = config.dataDir().toAbsolutePath().normalize();
      boolean keyFiles = dev && config.masterKey().isEmpty();
      if (dev) {
        if (!Files.isDirectory(dataDir)) {
          throw new ConfigException("there is no data directory " + dataDir + " (data.dir, env RELAY_DATA_DIR): nothing to rotate");
        }
        Main.holdDataDirectory(dataDir);
      }
      MasterKeys keys;
      if (keyFiles) {
        if (!MasterKeyFiles.begin(dataDir)) {
          throw new ConfigException("there is no " + MasterKeyFiles.CURRENT + " in " + dataDir + " (data.dir, env RELAY_DATA_DIR): nothing to rotate");
        }
        keys = MasterKeyFiles.load(dataDir);
      } else {
        keys = Main.configuredKeys(config, MODE);
      }
      PgConnectOptions pg;
      if (config.pgUrl().isPresent() || !dev) {
        pg = PgConnectOptions.fromUri(Main.required(config.pgUrl(), "pg.url", MODE));
      } else {
        embedded = EmbeddedDatabase.start(dataDir.resolve("pg"), dataDir.resolve(Main.PG_PASSWORD_FILE), config.pgEmbeddedPort(), true);
        pg = embedded.connectOptions(EmbeddedDatabase.DATABASE);
      }
      System.out.println(PREFIX + "sealing every stored secret with master key " + keys.currentId()
          + (keys.previous().isEmpty() ? "" : ", opening those of " + String.join(", ", keys.previousIds())));
      migrate(pg, config.serverName().name());
      MasterKeyRotation.Summary summary = rotate(pg, keys, batchSize);
      if (!summary.unopenable().isEmpty()) {
        List<String> named = summary.unopenable().subList(0, Math.min(5, summary.unopenable().size()));
        System.err.println("scairelay: " + summary.unopenable().size() + " stored secrets cannot be opened with master key " + keys.describe()
            + " (" + String.join(", ", named) + (named.size() < summary.unopenable().size() ? ", …" : "") + "): add the key that sealed them to "
            + "secrets.previous_master_keys (env RELAY_SECRETS_PREVIOUS_MASTER_KEYS) and run " + MODE + " again; "
            + summary.resealed() + " others were sealed again meanwhile");
        return 2;
      }
      System.out.println(PREFIX + "done: " + summary.resealed() + " secrets sealed again, " + summary.alreadyCurrent() + " were already, in "
          + summary.rows() + " rows; every stored secret is sealed with master key " + keys.currentId() + " now");
      if (keyFiles) {
        MasterKeyFiles.finish(dataDir);
        System.out.println(PREFIX + "the old key is deleted; start the dev node again");
      } else if (!keys.previous().isEmpty()) {
        System.out.println(PREFIX + "the previous keys (" + String.join(", ", keys.previousIds()) + ") open nothing now: remove "
            + "secrets.previous_master_keys from every node's configuration (it takes effect at each node's next restart)");
      }
      return 0;
    } catch (ConfigException e) {
      System.err.println("scairelay: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      log.error(MODE + " failed; running it again goes on where it stopped", e);
      return 1;
    } finally {
      if (embedded != null) {
        try {
          embedded.close();
        } catch (IOException e) {
          log.warn("stopping PostgreSQL: {}", e.getMessage());
        }
      }
    }
  }

  /** The rows of {@code --batch-size=<rows>}, or 0 when {@code arg} is not that option with a valid number. */
  private static int batchSize(String arg) {
    String option = "--batch-size=";
    if (!arg.startsWith(option) || !arg.substring(option.length()).matches("[0-9]{1,5}")) {
      return 0;
    }
    int rows = Integer.parseInt(arg.substring(option.length()));
    return rows <= MAX_BATCH_SIZE ? rows : 0;
  }

  private static void migrate(PgConnectOptions pg, String serverName) {
    try {
      Migrations.apply(pg, serverName);
    } catch (RuntimeException e) {
      throw new ConfigException("cannot use PostgreSQL at " + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase()
          + " (pg.url, env RELAY_PG_URL): " + StartFailures.rootMessage(e));
    }
  }

  private static MasterKeyRotation.Summary rotate(PgConnectOptions pg, MasterKeys keys, int batchSize) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(pg).using(vertx).build();
      return MasterKeyRotation.run(pool, new SecretBox(keys), batchSize, line -> System.out.println(PREFIX + line)).await();
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }
}
