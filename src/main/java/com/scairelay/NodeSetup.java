package com.scairelay;

import com.scairelay.cluster.ClusterNode;
import com.scairelay.config.RelayConfig;
import com.scairelay.metrics.NodeMetrics;
import com.scairelay.store.MasterKeys;
import com.scairelay.targets.Scheduler;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

import java.time.Clock;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Everything a node needs that is resolved before it starts: settings, database, credentials, clock,
 * how the delivery side's timers are kept (Vert.x timers in the clock, unless a test drives them), the
 * cluster it joined, if any, and the meters its Vert.x was built with ({@link NodeMetrics#vertx}).
 */
public record NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, MasterKeys masterKeys, Clock clock,
                        BiFunction<Vertx, Clock, Scheduler> scheduler, Optional<ClusterNode> cluster, NodeMetrics metrics) {

  /** A node without metrics. */
  public NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, MasterKeys masterKeys, Clock clock,
                   BiFunction<Vertx, Clock, Scheduler> scheduler, Optional<ClusterNode> cluster) {
    this(config, pg, adminToken, masterKeys, clock, scheduler, cluster, NodeMetrics.off());
  }

  public NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, byte[] masterKey, Clock clock) {
    this(config, pg, adminToken, MasterKeys.of(masterKey), clock, Scheduler::of, Optional.empty());
  }

  public NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, byte[] masterKey, Clock clock,
                   BiFunction<Vertx, Clock, Scheduler> scheduler) {
    this(config, pg, adminToken, MasterKeys.of(masterKey), clock, scheduler, Optional.empty());
  }

  public NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, byte[] masterKey, Clock clock,
                   BiFunction<Vertx, Clock, Scheduler> scheduler, Optional<ClusterNode> cluster) {
    this(config, pg, adminToken, MasterKeys.of(masterKey), clock, scheduler, cluster);
  }

  public NodeSetup(RelayConfig config, PgConnectOptions pg, String adminToken, byte[] masterKey, Clock clock,
                   BiFunction<Vertx, Clock, Scheduler> scheduler, Optional<ClusterNode> cluster, NodeMetrics metrics) {
    this(config, pg, adminToken, MasterKeys.of(masterKey), clock, scheduler, cluster, metrics);
  }
}
