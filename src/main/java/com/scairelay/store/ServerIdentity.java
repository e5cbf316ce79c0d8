package com.scairelay.store;

import com.scairelay.config.ConfigException;
import com.scairelay.config.ServerName;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server name this database's participants are named for. The first node to start on it (or the
 * migration that qualified the ids it held) records its {@code server.name}; every later node uses that
 * one: a node whose {@code server.name} is empty takes it whatever its host is called, and a node
 * configured with another name is refused, because fqids are permanent ids that other systems keep.
 */
public final class ServerIdentity {
  private static final Logger log = LoggerFactory.getLogger(ServerIdentity.class);
  static final String TABLE = """
      CREATE TABLE server_identity (
        singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        name         text NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
      )""";
  private static final String CLAIM = """
      INSERT INTO server_identity (name) VALUES ($1)
      ON CONFLICT (singleton) DO UPDATE SET name = server_identity.name
      RETURNING name""";

  private ServerIdentity() {
  }

  /** The name this node's fqids carry; fails with a {@link ConfigException} when {@code server.name} names another. */
  public static Future<String> claim(Pool pool, ServerName wanted) {
    return pool.preparedQuery(CLAIM).execute(Tuple.of(wanted.name())).map(rows -> {
      String recorded = rows.iterator().next().getString(0);
      if (recorded.equals(wanted.name())) {
        return recorded;
      }
      if (wanted.configured()) {
        throw new ConfigException("server.name (env RELAY_SERVER_NAME) is '" + wanted.name() + "', but this database's participants are "
            + "named for '" + recorded + "' (@…:" + recorded + "), and fqids never change: set RELAY_SERVER_NAME=" + recorded
            + " or leave it empty");
      }
      log.info("server.name is empty: participants are named for '{}', as this database's are (this host is '{}')", recorded, wanted.name());
      return recorded;
    });
  }
}
