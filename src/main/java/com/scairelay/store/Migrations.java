package com.scairelay.store;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Applies the schema migrations in {@code src/main/resources/db/migration} and the Java ones
 * ({@link QualifiedFqids}) with Flyway, over JDBC, at start-up.
 */
public final class Migrations {
  private Migrations() {
  }

  /**
   * Blocking: call before the node's verticles start, never on an event loop. {@code serverName} names
   * the participants stored before fqids were qualified (see {@code server.name}).
   */
  public static int apply(PgConnectOptions pg, String serverName) {
    return configure(pg, serverName).load().migrate().migrationsExecuted;
  }

  /** Where the migrations are and which database they go to. */
  static FluentConfiguration configure(PgConnectOptions pg, String serverName) {
    String url = "jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase();
    return Flyway.configure()
        .dataSource(url, pg.getUser(), pg.getPassword())
        .locations("classpath:db/migration")
        .javaMigrations(new QualifiedFqids(serverName));
  }
}
