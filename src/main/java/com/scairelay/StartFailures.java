package com.scairelay;

import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import com.scairelay.store.Migrations;
import io.vertx.pgclient.PgConnectOptions;

import java.net.BindException;
import java.sql.SQLException;
import java.util.Set;

/**
 * What stops a start that an operator can fix, told in one line naming the setting and its variable:
 * the HTTP port taken, PostgreSQL unreachable or refusing, a {@code pg.url} that cannot be read. The
 * PostgreSQL URL is shown without its password, and no line holds a credential.
 */
final class StartFailures {
  /** SQLSTATE classes of a server that cannot be reached or will not let us in: connection, authorisation, unknown database, resources, shutdown. */
  private static final Set<String> UNREACHABLE = Set.of("08", "28", "3D", "53", "57");

  private StartFailures() {
  }

  /** The options of {@code pg.url}; a URL that cannot be read is named without being echoed (it holds a password). */
  static PgConnectOptions pgOptions(String url) {
    try {
      return PgConnectOptions.fromUri(url);
    } catch (RuntimeException e) {
      throw new ConfigException("invalid configuration: pg.url (env RELAY_PG_URL) must be postgresql://user:password@host:port/database");
    }
  }

  /**
   * Applies the migrations; when {@code configured} (the PostgreSQL of {@code pg.url}), one that cannot be
   * reached or refuses the login is a {@link ConfigException} naming {@code RELAY_PG_URL} and the cause.
   */
  static int migrate(PgConnectOptions pg, String serverName, boolean configured) {
    try {
      return Migrations.apply(pg, serverName);
    } catch (RuntimeException e) {
      SQLException sql = find(e, SQLException.class);
      String state = sql == null || sql.getSQLState() == null ? "" : sql.getSQLState();
      if (!configured || sql == null || state.length() < 2 || !UNREACHABLE.contains(state.substring(0, 2))) {
        throw e;
      }
      Throwable root = root(e);
      String cause = firstLine(sql.getMessage()) + (root != sql && root.getMessage() != null ? " (" + firstLine(root.getMessage()) + ")" : "");
      throw new ConfigException("cannot use PostgreSQL at " + describe(pg) + " (pg.url, env RELAY_PG_URL): " + cause);
    }
  }

  /** {@code postgresql://user@host:port/database}: where the node connects, without the password. */
  static String describe(PgConnectOptions pg) {
    return "postgresql://" + pg.getUser() + "@" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase();
  }

  /** The failure as one line an operator can act on, or null when it is none of those this class knows. */
  static ConfigException explain(Throwable failure, RelayConfig config) {
    ConfigException setting = find(failure, ConfigException.class);
    if (setting != null) {
      return setting;
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (t instanceof BindException || message.contains("Address already in use") || message.contains("Cannot assign requested address")) {
        return new ConfigException("cannot listen on " + config.httpHost() + " port " + config.httpPort() + ": " + firstLine(message)
            + "; set another port with http.port (env RELAY_HTTP_PORT), or the interface with http.host (env RELAY_HTTP_HOST)");
      }
    }
    return null;
  }

  private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** The message of the innermost cause (its class name when it has none). */
  static String rootMessage(Throwable failure) {
    Throwable root = root(failure);
    return root.getMessage() != null ? root.getMessage() : root.toString();
  }

  private static Throwable root(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  private static String firstLine(String message) {
    String text = String.valueOf(message).strip();
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline).strip();
  }
}
