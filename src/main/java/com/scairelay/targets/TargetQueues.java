package com.scairelay.targets;

import com.scairelay.Services;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The node's delivery side: one verticle holding the queue actors of the targets this node owns,
 * activated on demand (a wake-up from the event log, an admin change, the sweep) and dropped when idle.
 * The sweep, every {@code deliveries.sweep_interval_ms}, wakes every target with due rows nobody holds,
 * so a lost wake-up or a crashed node only delays a delivery.
 */
public final class TargetQueues extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TargetQueues.class);
  private static final int SWEEP_LIMIT = 10_000;

  private final Services services;
  private final String node;
  private final Map<String, TargetQueue> active = new HashMap<>();
  private DeliveryPolicy policy;
  private ResultWriter writer;
  private long sweepTimer;

  public TargetQueues(Services services, String node) {
    this.services = services;
    this.node = node;
  }

  @Override
  public Future<?> start() {
    policy = new DeliveryPolicy(settings());
    writer = new ResultWriter(vertx, services.pool(), services.audit(), node, settings().resultBatchMax());
    sweepTimer = vertx.setPeriodic(settings().sweepInterval().toMillis(), id -> sweep());
    return Future.all(
            vertx.eventBus().<String>consumer(EventLog.TARGET_WAKE_ADDRESS, message -> wake(message.body())).completion(),
            vertx.eventBus().<String>consumer(BridgeRegistry.CHANGED_ADDRESS, message -> wake(message.body())).completion())
        .onSuccess(v -> sweep());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    active.values().forEach(TargetQueue::close);
    active.clear();
    return Future.succeededFuture();
  }

  /** Wakes the target's actor, activating it if needed. */
  void wake(String targetId) {
    active.computeIfAbsent(targetId, id -> new TargetQueue(id, this)).wake();
  }

  void passivate(TargetQueue queue) {
    if (queue.isIdle() && active.get(queue.targetId()) == queue) {
      active.remove(queue.targetId());
      queue.close();
    }
  }

  private void sweep() {
    store().dueTargets(clock().instant(), SWEEP_LIMIT)
        .onSuccess(targets -> targets.forEach(this::wake))
        .onFailure(err -> log.warn("the delivery sweep failed: {}", err.toString()));
  }

  /** The target behind an id: a bridge (from the registry's cache) or a webhook subscription. */
  Future<Optional<Target>> target(String targetId) {
    if (Target.kindOf(targetId).equals(Target.WEBHOOK)) {
      return services.webhooks().find(targetId).map(found -> found.map(WebhookTarget::new));
    }
    return services.bridgeRegistry().find(targetId).map(found -> found.map(bridge -> new BridgeTarget(bridge, policy)));
  }

  Vertx vertx() {
    return vertx;
  }

  Clock clock() {
    return services.clock();
  }

  String node() {
    return node;
  }

  DeliveryStore store() {
    return services.deliveries();
  }

  ResultWriter writer() {
    return writer;
  }

  RelayConfig.Delivery settings() {
    return services.config().delivery();
  }

  /** How long an actor waits for a transport's answer: the HTTP timeouts and a margin. */
  Duration transportTimeout() {
    RelayConfig.Outbound outbound = services.config().outbound();
    return outbound.connectTimeout().plus(outbound.responseTimeout()).plusSeconds(5);
  }
}
