package com.scairelay.targets;

import com.scairelay.config.RelayConfig;
import com.scairelay.transport.Connectors;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.OutboundGuard;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The node's delivery side: one verticle holding the queue actors of the targets this node owns
 * ({@link Ownership}), activated on demand (a wake-up after an enqueue or an admin change, a due
 * timer, the sweep) and dropped when idle. The sweep, every {@code deliveries.sweep_interval_ms},
 * wakes every owned target with due rows nobody holds, so a lost wake-up or a crashed node only
 * delays a delivery.
 */
public final class TargetQueues extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TargetQueues.class);
  private static final int SWEEP_LIMIT = 10_000;

  private final Outbox outbox;
  private final TargetKinds kinds;
  private final Connectors connectors;
  private final Scheduler scheduler;
  private final Clock clock;
  private final RelayConfig config;
  private final OutboundGuard guard;
  private final Map<String, TargetQueue> active = new HashMap<>();
  private HttpSender sender;
  private DeliveryStore store;
  private ResultWriter writer;
  private long sweepTimer = -1;
  private boolean sweeping;
  private boolean stopped;

  public TargetQueues(Outbox outbox, TargetKinds kinds, Connectors connectors, OutboundGuard guard, Scheduler scheduler, Clock clock,
                      RelayConfig config) {
    this.guard = guard;
    this.outbox = outbox;
    this.kinds = kinds;
    this.connectors = connectors;
    this.scheduler = scheduler;
    this.clock = clock;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    store = new DeliveryStore(outbox.leases(), kinds);
    sender = new HttpSender(vertx, config.outbound(), guard, clock);
    writer = new ResultWriter(vertx, outbox, node(), settings().resultBatchMax());
    return vertx.eventBus().<String>consumer(Outbox.wakeAddress(node()), this::onWake).completion()
        .onSuccess(v -> sweep());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (sweepTimer != -1) {
      scheduler.cancel(sweepTimer);
    }
    active.values().forEach(TargetQueue::close);
    active.clear();
    sender.close();
    return Future.succeededFuture();
  }

  /**
   * True when nothing is being claimed, sent or written and no wake-up sent on this node is waiting:
   * what is not happening now will not happen until a timer is due. Read on the verticle's own loop.
   */
  public Future<Boolean> quiet() {
    Promise<Boolean> answer = Promise.promise();
    context.runOnContext(v -> answer.complete(!sweeping && outbox.localWakes().get() == 0
        && active.values().stream().noneMatch(TargetQueue::isBusy)));
    return answer.future();
  }

  private void onWake(Message<String> message) {
    String body = message.body();
    int colon = body.indexOf(':');
    try {
      wake(body.substring(0, colon), body.substring(colon + 1));
    } finally {
      if (message.headers().contains(Outbox.COUNTED)) {
        outbox.localWakes().decrementAndGet();
      }
    }
  }

  /** Wakes the target's actor, activating it if needed. */
  void wake(String kind, String targetId) {
    TargetQueue queue = active.get(targetId);
    if (queue == null) {
      queue = new TargetQueue(kinds.get(kind), targetId, this);
      active.put(targetId, queue);
    }
    queue.wake();
  }

  void passivate(TargetQueue queue) {
    if (queue.isIdle() && active.get(queue.targetId()) == queue) {
      active.remove(queue.targetId());
      queue.close();
    }
  }

  /** Sweeps now, and again one interval after this sweep began. */
  private void sweep() {
    sweepTimer = -1;
    sweeping = true;
    Instant began = clock.instant();
    store.dueTargets(began, SWEEP_LIMIT)
        .onSuccess(due -> due.stream()
            .filter(target -> outbox.ownership().ownerOf(target.targetId()).equals(node()))
            .forEach(target -> wake(target.kind(), target.targetId())))
        .onFailure(err -> log.warn("the delivery sweep failed: {}", err.toString()))
        .onComplete(ar -> {
          sweeping = false;
          if (!stopped) {
            sweepTimer = scheduler.at(began.plus(settings().sweepInterval()), this::sweep);
          }
        });
  }

  Vertx vertx() {
    return vertx;
  }

  Clock clock() {
    return clock;
  }

  Scheduler scheduler() {
    return scheduler;
  }

  Connectors connectors() {
    return connectors;
  }

  String node() {
    return outbox.nodeId();
  }

  DeliveryStore store() {
    return store;
  }

  ResultWriter writer() {
    return writer;
  }

  RelayConfig.Delivery settings() {
    return config.delivery();
  }

  HttpSender sender() {
    return sender;
  }
}
