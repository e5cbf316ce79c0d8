package com.scairelay;

import com.scairelay.audit.AuditPurge;
import com.scairelay.auth.AuthorizationCodes;
import com.scairelay.auth.RevokedTokens;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.eventlog.EventPurge;
import com.scairelay.store.Purge;
import com.scairelay.targets.Outbox;
import com.scairelay.webhooks.WebhookTargets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnection;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a node's purge removes (README, "Retention"), each pass: inbound dedupe rows older than the
 * dedupe window, finished deliveries older than {@code deliveries.retention_hours}, expired authorization
 * codes, and, when set, room
 * events older than {@code retention.events_days} and audit events older than {@code retention.audit_days}
 * (those a delivery is pending for stay). Ages count from the node's clock at the start of the pass.
 */
final class Retention {
  private final RelayConfig config;
  private final Clock clock;
  private final Purge purge;

  Retention(Vertx vertx, PgConnectOptions pg, RelayConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    PgConnectOptions own = new PgConnectOptions(pg);
    this.purge = new Purge(vertx, () -> PgConnection.connect(vertx, own).map(SqlConnection.class::cast),
        config.retention().batchSize(), config.retention().batchPause());
  }

  /** A pass over everything kept for a limited time. */
  Future<Purge.Summary> purge() {
    Instant now = clock.instant();
    List<Purge.Rows> rows = new ArrayList<>(List.of(dedupe(now), deliveries(now), AuthorizationCodes.expiredBefore(now),
        RevokedTokens.expiredBefore(now)));
    RelayConfig.Retention retention = config.retention();
    if (!retention.events().isZero()) {
      rows.add(EventPurge.before(now.minus(retention.events())));
    }
    if (!retention.audit().isZero()) {
      rows.add(AuditPurge.before(now.minus(retention.audit()), WebhookTargets.TARGET_IDS));
    }
    return purge.run(rows);
  }

  /** A pass over one kind of row; answers how many went. */
  Future<Long> purge(Purge.Rows rows) {
    return purge.run(List.of(rows)).map(summary -> summary.purged(rows.name()));
  }

  Purge.Rows dedupe(Instant now) {
    return EventLog.dedupeBefore(now.minus(config.dedupeWindow()));
  }

  Purge.Rows deliveries(Instant now) {
    return Outbox.finishedBefore(now.minus(config.delivery().retention()));
  }

  void stop() {
    purge.stop();
  }
}
