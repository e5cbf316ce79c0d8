package com.scairelay.store;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;

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
    String url = "jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase();
    Flyway flyway = Flyway.configure()
        .dataSource(url, pg.getUser(), pg.getPassword())
        .locations("classpath:db/migration")
        .javaMigrations(new QualifiedFqids(serverName))
        .load();
    return flyway.migrate().migrationsExecuted;
  }
}
