package com.scairelay;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.auth.AccessGuard;
import com.scairelay.auth.ApiKeyStore;
import com.scairelay.auth.ApplicationStore;
import com.scairelay.auth.TokenService;
import com.scairelay.bridges.BridgeCounters;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.bridges.BridgeStore;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.ingress.IngressVerticle;
import com.scairelay.rooms.RoomStore;
import com.scairelay.store.Ids;
import com.scairelay.store.SecretBox;
import com.scairelay.targets.DeliveryStore;
import com.scairelay.targets.TargetQueues;
import com.scairelay.transport.CustomTransport;
import com.scairelay.transport.OutboundGuard;
import com.scairelay.webhooks.WebhookStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static com.scairelay.store.Times.utc;

/**
 * One ScaiRelay node on a Vert.x instance: builds the shared services, deploys one HTTP verticle per
 * event loop and runs the node's housekeeping (counter flushes, dedupe pruning). The database must
 * already be migrated.
 */
public final class RelayNode {
  private static final Logger log = LoggerFactory.getLogger(RelayNode.class);
  private static final long COUNTER_FLUSH_MS = 1_000;
  private static final long DEDUPE_PRUNE_MS = 60_000;
  private static final String PRUNE_DEDUPE = "DELETE FROM inbound_dedupe WHERE received_at < $1";
  private static final long DELIVERY_PRUNE_MS = 600_000;
  /** Finished deliveries older than the retention, with their attempts, a bounded number per run. */
  private static final String PRUNE_DELIVERIES = """
      WITH old AS (
        SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 ORDER BY updated_at LIMIT 50000
      ), attempts AS (
        DELETE FROM delivery_attempts a USING old WHERE a.delivery_id = old.id
      )
      DELETE FROM deliveries d USING old WHERE d.id = old.id""";

  private final Vertx vertx;
  private final Services services;
  private final List<Long> timers = new ArrayList<>();
  private boolean stopped;
  private final String nodeId;
  private final List<String> deployments = new ArrayList<>();
  private int port;

  private RelayNode(Vertx vertx, Services services, String nodeId) {
    this.vertx = vertx;
    this.services = services;
    this.nodeId = nodeId;
  }

  public static Future<RelayNode> start(Vertx vertx, NodeSetup setup) {
    RelayConfig config = setup.config();
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.pgPoolSize()))
        .connectingTo(setup.pg().setPipeliningLimit(64))
        .using(vertx)
        .build();
    AuditLog audit = new AuditLog(pool, setup.clock());
    SecretBox secrets = new SecretBox(setup.masterKey());
    BridgeStore bridges = new BridgeStore(pool, secrets, audit);
    TokenService tokens = new TokenService(vertx, pool, secrets, setup.clock(), config.maxTokenLifetime());
    ApiKeyStore apiKeys = new ApiKeyStore(pool, audit);
    Services services = new Services(config, setup.clock(), pool, new AccessGuard(setup.adminToken(), tokens, apiKeys), audit,
        new FailureAuditLimiter(config.signatureFailureAuditsPerMinute()), bridges,
        new BridgeRegistry(vertx, bridges, config.bridgeCacheTtl()), new BridgeCounters(pool), new RoomStore(pool),
        new EventLog.Stats(), new DeliveryStore(pool),
        new OutboundGuard(config.outbound().allowLoopback(), config.outbound().allowPrivateNetworks()),
        new WebhookStore(pool, secrets, audit), tokens, new ApplicationStore(pool, audit), apiKeys);
    RelayNode node = new RelayNode(vertx, services, Ids.newId("node"));
    return tokens.load()
        .recover(err -> {
          log.warn("signing keys could not be loaded ({}); tokens are refused until they are, retrying every 5 s", err.getMessage());
          long[] retry = new long[1];
          retry[0] = vertx.setPeriodic(5_000, id -> tokens.load().onSuccess(v -> vertx.cancelTimer(retry[0])));
          node.timers.add(retry[0]);
          return Future.succeededFuture();
        })
        .compose(v -> node.deploy()).map(node);
  }

  /** Transports first, then the delivery side, then HTTP: nothing is accepted before it can be delivered. */
  private Future<Void> deploy() {
    RelayConfig config = services.config();
    int transports = config.outbound().transportInstances() > 0 ? config.outbound().transportInstances() : Runtime.getRuntime().availableProcessors();
    List<IngressVerticle> http = new ArrayList<>();
    return vertx.deployVerticle(() -> new CustomTransport(config.outbound(), services.outboundGuard(), services.clock()),
            new DeploymentOptions().setInstances(transports))
        .onSuccess(deployments::add)
        .compose(id -> vertx.deployVerticle(new TargetQueues(services, nodeId)))
        .onSuccess(deployments::add)
        .compose(id -> vertx.deployVerticle(() -> {
          IngressVerticle verticle = new IngressVerticle(services);
          synchronized (http) {
            http.add(verticle);
          }
          return verticle;
        }, new DeploymentOptions().setInstances(config.effectiveHttpInstances())))
        .onSuccess(id -> {
          deployments.add(id);
          port = http.get(0).actualPort();
          timers.add(vertx.setPeriodic(COUNTER_FLUSH_MS, t -> flushCounters()));
          timers.add(vertx.setPeriodic(DEDUPE_PRUNE_MS, t -> pruneDedupe()));
          timers.add(vertx.setPeriodic(DELIVERY_PRUNE_MS, t -> pruneDeliveries()));
        })
        .mapEmpty();
  }

  public String nodeId() {
    return nodeId;
  }

  public int port() {
    return port;
  }

  public Services services() {
    return services;
  }

  /** Deletes dedupe rows older than the window; an expired row would be replaced anyway, this keeps the table small. */
  public Future<Integer> pruneDedupe() {
    var cutoff = services.clock().instant().minus(services.config().dedupeWindow());
    return services.pool().preparedQuery(PRUNE_DEDUPE).execute(Tuple.of(utc(cutoff))).map(rows -> rows.rowCount())
        .onFailure(err -> log.warn("pruning inbound_dedupe failed: {}", err.getMessage()));
  }

  /** Deletes finished deliveries (and their attempts) older than {@code deliveries.retention_hours}. */
  public Future<Integer> pruneDeliveries() {
    var cutoff = services.clock().instant().minus(services.config().delivery().retention());
    return services.pool().preparedQuery(PRUNE_DELIVERIES).execute(Tuple.of(utc(cutoff))).map(rows -> rows.rowCount())
        .onFailure(err -> log.warn("pruning finished deliveries failed: {}", err.getMessage()));
  }

  public Future<Void> flushCounters() {
    return services.bridgeCounters().flush()
        .onFailure(err -> log.warn("writing bridge counters failed: {}", err.getMessage()));
  }

  /** Stops taking requests, writes what is counted and closes the database pool. Stopping twice does nothing. */
  public Future<Void> stop() {
    if (stopped) {
      return Future.succeededFuture();
    }
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    Future<Void> undeployed = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      undeployed = undeployed.compose(v -> vertx.undeploy(id));
    }
    return undeployed
        .compose(v -> flushCounters().otherwiseEmpty())
        .compose(v -> services.pool().close());
  }
}
