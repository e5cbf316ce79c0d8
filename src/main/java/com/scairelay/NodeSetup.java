package com.scairelay;

import com.scairelay.config.RelayConfig;
import io.vertx.pgclient.PgConnectOptions;

import java.time.Clock;

/** Everything a node needs that is resolved before it starts: settings, database, credentials, clock. */
public record NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, byte[] masterKey, Clock clock) {
}
