package com.scairelay;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.AuditRoutes;
import com.scairelay.audit.EventRoutes;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.auth.AccessGuard;
import com.scairelay.auth.ApiKeyStore;
import com.scairelay.auth.ApplicationRoutes;
import com.scairelay.auth.ApplicationStore;
import com.scairelay.auth.AuthorizationCodes;
import com.scairelay.auth.AuthorizeRoutes;
import com.scairelay.auth.OAuthClients;
import com.scairelay.auth.TokenRoutes;
import com.scairelay.auth.TokenRevocation;
import com.scairelay.auth.RevokedTokens;
import com.scairelay.auth.TokenService;
import com.scairelay.bridges.BridgeCounters;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.bridges.BridgeRoutes;
import com.scairelay.bridges.BridgeStore;
import com.scairelay.bridges.BridgeTargets;
import com.scairelay.cluster.ClusterNode;
import com.scairelay.cluster.ClusterRoutes;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.http.Routes;
import com.scairelay.ingress.ConsoleRoutes;
import com.scairelay.ingress.HealthRoutes;
import com.scairelay.ingress.InboundMeters;
import com.scairelay.ingress.InboundRoute;
import com.scairelay.ingress.IngressVerticle;
import com.scairelay.rooms.RoomRoutes;
import com.scairelay.rooms.RoomStore;
import com.scairelay.store.Fqids;
import com.scairelay.metrics.NodeMetrics;
import com.scairelay.store.Ids;
import com.scairelay.store.Purge;
import com.scairelay.store.SecretBox;
import com.scairelay.store.ServerIdentity;
import com.scairelay.targets.DeliveryMeters;
import com.scairelay.targets.DeliveryCounters;
import com.scairelay.targets.DeliveryRoutes;
import com.scairelay.targets.NodeLease;
import com.scairelay.targets.Outbox;
import com.scairelay.targets.OutboxGauges;
import com.scairelay.targets.Ownership;
import com.scairelay.targets.ReplayRoutes;
import com.scairelay.targets.TargetKinds;
import com.scairelay.targets.TargetQueues;
import com.scairelay.transport.Connectors;
import com.scairelay.ingress.PlatformListeners;
import com.scairelay.bridges.BridgeMessages;
import com.scairelay.bridges.BridgeShadows;
import com.scairelay.transport.OutboundGuard;
import com.scairelay.webhooks.WebhookFanOut;
import com.scairelay.webhooks.WebhookRoutes;
import com.scairelay.webhooks.WebhookStore;
import com.scairelay.webhooks.WebhookTargets;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One ScaiRelay node on a Vert.x instance: builds the parts once, hands each the few others it uses,
 * deploys the transports, the delivery side and one HTTP verticle per event loop, and runs the node's
 * housekeeping (counter flushes, the retention purge). The database must already be migrated.
 */
public final class RelayNode {
  private static final Logger log = LoggerFactory.getLogger(RelayNode.class);
  private static final long COUNTER_FLUSH_MS = 1_000;
  private static final int LEASE_POOL_SIZE = 4;

  private final Vertx vertx;
  private final RelayConfig config;
  private final Clock clock;
  private final Pool pool;
  private final Pool leases;
  private final String nodeId;
  private final Ownership ownership;
  private final NodeLease lease;
  private final NodeSetup setup;
  private final OutboundGuard outboundGuard;
  private final Connectors connectors;
  private final Outbox outbox;
  private final AuditLog audit;
  private final FailureAuditLimiter failureAudits;
  private final BridgeStore bridges;
  private final BridgeRegistry bridgeRegistry;
  private final BridgeCounters bridgeCounters;
  private final RoomStore rooms;
  private final WebhookStore webhooks;
  private final TokenService tokens;
  private final ApplicationStore applications;
  private final ApiKeyStore apiKeys;
  private final TokenRevocation revocation;
  private final RevokedTokens revokedTokens;
  private final AccessGuard guard;
  private final WebClient oidcClient;
  private final OAuthClients oauthClients;
  private final AuthorizationCodes authorizationCodes;
  private final TargetKinds kinds;
  private final TargetQueues targetQueues;
  private final Retention retention;
  private final NodeMetrics metrics;
  private final InboundMeters inboundMeters;
  private final AtomicInteger openStreams;
  private final OutboxGauges outboxGauges;
  private final EventLog.Stats eventLogStats;
  private final EventLog.Writers eventLogWriters = new EventLog.Writers();
  private final List<Long> timers = new ArrayList<>();
  private final List<Deployed> deployments = new ArrayList<>();
  private boolean stopped;
  /** How participants are named: set at start, from the server name the database keeps ({@link ServerIdentity}). */
  private Fqids fqids;
  /** What a stop is waiting for now, for the line that says what did not finish in time. */
  private volatile String stopping = "nothing";
  private io.vertx.core.eventbus.MessageConsumer<String> roomEvents;
  private int port;

  /** A verticle the node deployed, and what a stop waits for when it undeploys it. */
  private record Deployed(String id, String drains) {
  }

  private RelayNode(Vertx vertx, NodeSetup setup) {
    this.vertx = vertx;
    this.setup = setup;
    this.config = setup.config();
    this.nodeId = setup.cluster().map(ClusterNode::nodeId).orElseGet(() -> Ids.newId("node"));
    this.ownership = setup.cluster().<Ownership>map(ClusterNode::ownership).orElseGet(() -> Ownership.singleNode(nodeId));
    this.clock = setup.clock();
    this.metrics = setup.metrics();
    this.pool = pool(vertx, setup.pg(), config.pgPoolSize(), config.pgTimeout(), true);
    this.leases = pool(vertx, setup.pg(), LEASE_POOL_SIZE, config.pgTimeout(), false);
    SecretBox secrets = new SecretBox(setup.masterKeys());
    log.info("secrets at rest are sealed with master key {}", setup.masterKeys().describe());
    outboundGuard = new OutboundGuard(config.outbound().allowLoopback(), config.outbound().allowPrivateNetworks());
    connectors = Connectors.builtIn(vertx, config, outboundGuard, clock, new BridgeMessages(pool), new BridgeShadows(pool, clock));
    lease = new NodeLease(vertx, pool, nodeId, "http://" + config.httpHost() + ":" + config.httpPort(), config.cluster().nodeLease(), ownership);
    outbox = new Outbox(vertx, pool, leases, nodeId, ownership);
    audit = new AuditLog(pool, outbox, clock, new WebhookFanOut());
    failureAudits = new FailureAuditLimiter(config.signatureFailureAuditsPerMinute());
    bridges = new BridgeStore(pool, secrets, audit);
    bridgeRegistry = new BridgeRegistry(vertx, bridges, config.bridgeCacheTtl());
    bridgeCounters = new BridgeCounters(pool);
    rooms = new RoomStore(pool);
    webhooks = new WebhookStore(pool, secrets, audit);
    tokens = new TokenService(vertx, pool, secrets, clock, config.maxTokenLifetime());
    applications = new ApplicationStore(pool, audit);
    apiKeys = new ApiKeyStore(pool, audit);
    revokedTokens = new RevokedTokens(vertx, pool, clock);
    revocation = new TokenRevocation(vertx, applications, apiKeys, revokedTokens, clock, config.revocationCheck());
    oidcClient = WebClient.create(vertx);
    guard = AccessGuard.of(setup.adminToken(), tokens, apiKeys, revocation, config.oidc(), vertx, oidcClient, clock, oidcFetchTimeout(config));
    oauthClients = OAuthClients.of(applications, config.maxTokenLifetime());
    authorizationCodes = new AuthorizationCodes(pool, audit, revokedTokens, config.authorizationCodeLifetime());
    kinds = new TargetKinds()
        .register(BridgeTargets.kind(bridgeRegistry, audit, config.delivery()))
        .register(WebhookTargets.kind(webhooks, audit));
    targetQueues = new TargetQueues(outbox, lease, kinds, connectors, outboundGuard, setup.scheduler().apply(vertx, clock), clock, config,
        new DeliveryMeters(metrics.registry()));
    inboundMeters = new InboundMeters(metrics.registry(), connectors.bridgeTransports().stream().map(String::valueOf).toList());
    openStreams = RoomRoutes.openStreams(metrics.registry());
    outboxGauges = new OutboxGauges(pool, kinds, metrics.registry(), clock);
    eventLogStats = new EventLog.Stats(metrics.registry());
    retention = new Retention(vertx, setup.pg(), config, clock);
  }

  /** A fetch of the OIDC issuer's keys ends well before the request waiting for it would time out (503). */
  private static Duration oidcFetchTimeout(RelayConfig config) {
    long requestMillis = config.requestTimeout().toMillis();
    return Duration.ofMillis(Math.max(100, Math.min(config.outbound().responseTimeout().toMillis(), requestMillis * 3 / 4)));
  }

  /**
   * Statements are prepared once per connection and take arrays, whose custom plans are no better
   * than the generic one: planning the event log's batch statements would cost more than running them.
   * A pool that is not {@code durable} commits without waiting for the disk (the outbox's leases).
   */
  private static Pool pool(Vertx vertx, PgConnectOptions pg, int size, Duration timeout, boolean durable) {
    PgConnectOptions options = new PgConnectOptions(pg).setPipeliningLimit(64).setCachePreparedStatements(true)
        .setPreparedStatementCacheSqlLimit(65_536);
    if (!durable) {
      options.addProperty("synchronous_commit", "off");
    }
    // Waiting for a connection (a new one included) is bounded: an unreachable PostgreSQL is a 503, not a hang.
    // Named for the pool meters (vertx_pool_*{pool_type="sql", pool_name="relay-durable"|"relay-leases"}).
    PoolOptions pooling = new PoolOptions().setName(durable ? "relay-durable" : "relay-leases").setMaxSize(size)
        .setConnectionTimeout((int) timeout.toMillis()).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
    return PgBuilder.pool().with(pooling).connectingTo(options).using(vertx).build();
  }

  public static Future<RelayNode> start(Vertx vertx, NodeSetup setup) {
    RelayNode node = new RelayNode(vertx, setup);
    return node.tokens.load()
        .recover(err -> {
          log.warn("signing keys could not be loaded ({}); tokens are refused until they are, retrying every second", err.getMessage());
          long[] retry = new long[1];
          retry[0] = vertx.setPeriodic(1_000, id -> node.tokens.load().onSuccess(v -> vertx.cancelTimer(retry[0])));
          node.timers.add(retry[0]);
          return Future.succeededFuture();
        })
        .compose(v -> ServerIdentity.claim(node.pool, node.config.serverName()))
        .map(name -> node.fqids = new Fqids(name))
        .compose(v -> node.revokedTokens.load())
        .compose(v -> node.lease.start())
        .compose(v -> node.deploy()).map(node)
        // A node that could not start (its port taken, say) gives back what it took: its lease, its pools.
        .recover(err -> node.stop().otherwiseEmpty().compose(v -> Future.failedFuture(err)));
  }

  /** The routes of one event loop, in the order they are matched. */
  private List<Routes> routes(EventLog eventLog) {
    DeliveryCounters deliveryCounters = new DeliveryCounters(pool);
    return List.of(
        new HealthRoutes(pool, lease::valid, this::clusterStatus),
        metrics.routes(),
        new InboundRoute(bridgeRegistry, bridgeCounters, connectors, eventLog, audit, failureAudits, config, clock, inboundMeters),
        new BridgeRoutes(guard, bridges, bridgeRegistry, rooms, audit, connectors, outbox, deliveryCounters, config, clock),
        new RoomRoutes(guard, rooms, eventLog, fqids, clock, openStreams),
        new AuditRoutes(guard, audit),
        new DeliveryRoutes(guard, kinds, pool),
        new ReplayRoutes(guard, kinds, outbox,
            (tx, who, action, id, payload) -> audit.record(tx, audit.adminEvent(who, action, id, payload)), clock),
        new WebhookRoutes(guard, webhooks, audit, outboundGuard, outbox, deliveryCounters, config, clock),
        new EventRoutes(guard, audit),
        new ApplicationRoutes(guard, applications, apiKeys, revocation, audit, config, clock),
        new AuthorizeRoutes(guard, oauthClients, authorizationCodes, audit, failureAudits, clock),
        new TokenRoutes(guard, tokens, applications, oauthClients, authorizationCodes, revocation, audit, failureAudits, clock),
        new ClusterRoutes(guard, lease, ownership, this::memberAddresses, setup.cluster().isPresent()),
        new ConsoleRoutes());
  }

  private Map<String, String> memberAddresses() {
    return setup.cluster().map(ClusterNode::addresses).orElseGet(Map::of);
  }

  /** What {@code /health/ready} says of the cluster. */
  private JsonObject clusterStatus() {
    return new JsonObject().put("clustered", setup.cluster().isPresent()).put("node_id", nodeId)
        .put("members", ownership.members().size());
  }

  private EventLog eventLog(Vertx vertx) {
    return new EventLog(vertx, outbox, fqids, clock, eventLogStats, new EventLog.Options(config.dedupeWindow(), config.eventLogMaxBatch(),
        config.eventLogWindowMs(), config.eventLogMaxPending(), config.eventLogMaxInFlight(), BridgeTargets.KIND), eventLogWriters);
  }

  /** The delivery side first, then HTTP: nothing is accepted before it can be delivered. */
  private Future<Void> deploy() {
    List<IngressVerticle> http = new ArrayList<>();
    roomEvents = EventLog.relayToStreams(vertx);
    return roomEvents.completion()
        .compose(v -> vertx.deployVerticle(targetQueues))
        .onSuccess(id -> deployments.add(new Deployed(id, "deliveries in flight (answers and results being written)")))
        .compose(id -> vertx.deployVerticle(() -> {
          IngressVerticle verticle = new IngressVerticle(config, this::eventLog, this::routes);
          synchronized (http) {
            http.add(verticle);
          }
          return verticle;
        }, new DeploymentOptions().setInstances(config.effectiveHttpInstances())))
        .onSuccess(id -> {
          deployments.add(new Deployed(id, "HTTP requests being answered (and their event-log batches)"));
          port = http.get(0).actualPort();
          lease.httpUrl("http://" + config.httpHost() + ":" + port);
          timers.add(vertx.setPeriodic(COUNTER_FLUSH_MS, t -> flushCounters()));
          timers.add(vertx.setPeriodic(config.retention().interval().toMillis(), t -> purge()));
          // Revoked tokens arrive on the event bus at once; this catches one whose message did not reach this node.
          timers.add(vertx.setPeriodic(config.revocationCheck().toMillis(), t -> revokedTokens.load()
              .onFailure(err -> log.debug("reading the revoked tokens again: {}", err.getMessage()))));
          if (metrics.enabled()) {
            metrics.start(vertx);
            outboxGauges.refresh();
            timers.add(vertx.setPeriodic(config.metrics().outboxInterval().toMillis(), t -> outboxGauges.refresh()));
          }
        })
        .compose(id -> vertx.deployVerticle(new PlatformListeners(connectors, bridges, ownership, nodeId, audit, this::eventLog, clock)))
        .onSuccess(id -> deployments.add(new Deployed(id, "platform connections (Discord Gateway)")))
        .mapEmpty();
  }

  public String nodeId() {
    return nodeId;
  }

  public int port() {
    return port;
  }

  public Connectors connectors() {
    return connectors;
  }

  public BridgeStore bridges() {
    return bridges;
  }

  public BridgeRegistry bridgeRegistry() {
    return bridgeRegistry;
  }

  public WebhookStore webhooks() {
    return webhooks;
  }

  public EventLog.Stats eventLogStats() {
    return eventLogStats;
  }

  /** True when the delivery side is doing nothing now (see {@link TargetQueues#quiet()}). */
  public Future<Boolean> deliveriesQuiet() {
    return targetQueues.quiet();
  }

  /** One pass of the retention purge (README, "Retention"), as the node runs every {@code retention.interval_seconds}. */
  public Future<Purge.Summary> purge() {
    return retention.purge();
  }

  /** Deletes dedupe rows older than the window; answers how many. */
  public Future<Long> pruneDedupe() {
    return retention.purge(retention.dedupe(clock.instant()));
  }

  /** Deletes finished deliveries (and their attempts) older than {@code deliveries.retention_hours}; answers how many. */
  public Future<Long> pruneDeliveries() {
    return retention.purge(retention.deliveries(clock.instant()));
  }

  public Future<Void> flushCounters() {
    return bridgeCounters.flush()
        .onFailure(err -> log.warn("writing bridge counters failed: {}", err.getMessage()));
  }

  /**
   * Drains: stops taking requests and answers those it took, lets the delivery side finish or give back
   * what it holds, writes what is counted, releases the node's targets and lease in PostgreSQL (so
   * another node takes them at once) and closes the database pools. Stopping twice does nothing.
   */
  public Future<Void> stop() {
    if (stopped) {
      return Future.succeededFuture();
    }
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    retention.stop();
    Future<Void> undeployed = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      Deployed deployed = deployments.get(i);
      undeployed = undeployed.compose(v -> stage(deployed.drains(), () -> vertx.undeploy(deployed.id())));
    }
    return undeployed
        .compose(v -> roomEvents == null ? Future.<Void>succeededFuture() : roomEvents.unregister().otherwiseEmpty())
        .compose(v -> stage("writing the bridge counters", () -> flushCounters().otherwiseEmpty()))
        .compose(v -> stage("releasing this node's targets and lease in PostgreSQL", () -> lease.leave()
            .onFailure(err -> log.warn("releasing this node's targets failed, others take them when its lease runs out: {}", err.getMessage()))
            .otherwiseEmpty()))
        .compose(v -> stage("closing the PostgreSQL pools", () -> leases.close().compose(c -> pool.close())))
        .andThen(v -> oidcClient.close())
        .andThen(v -> metrics.stop())
        .onComplete(ar -> stopping = "nothing");
  }

  private Future<Void> stage(String what, java.util.function.Supplier<Future<Void>> step) {
    stopping = what;
    return step.get();
  }

  /** What a stop in progress is waiting for ({@code nothing} when none is, or it is done). */
  public String stopping() {
    return stopping;
  }
}
