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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The node's delivery side: one verticle holding the queue actors of the targets this node owns
 * ({@link Ownership}), activated on demand (a wake-up after an enqueue or an admin change, a due
 * timer, the sweep) and dropped when idle. The sweep, every {@code deliveries.sweep_interval_ms},
 * wakes every owned target with due rows nobody holds, or held by a node whose lease ran out, so a
 * lost wake-up or a dead node only delays a delivery.
 *
 * <p>An actor claims only while this node holds its target in PostgreSQL ({@code target_owners}) and
 * starts an attempt only while the node's {@link NodeLease} is valid. When the members change, each
 * target that moved away is handed over: no new claims, the attempts in flight answered and written,
 * the claimed rows and the target released, then the new owner woken.
 */
public final class TargetQueues extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TargetQueues.class);
  private static final int SWEEP_LIMIT = 10_000;
  /** Header of a wake-up that a node passed on to the owner it sees. */
  static final String FORWARDED = "forwarded";

  private final Outbox outbox;
  private final TargetKinds kinds;
  private final Connectors connectors;
  private final Scheduler scheduler;
  private final Clock clock;
  private final RelayConfig config;
  private final OutboundGuard guard;
  private final NodeLease lease;
  private final DeliveryMeters meters;
  private final Map<String, TargetQueue> active = new HashMap<>();
  /** The targets this node holds in {@code target_owners}, by id, with their kind. */
  private final Map<String, String> held = new HashMap<>();
  private HttpSender sender;
  private DeliveryStore store;
  private ResultWriter writer;
  private long sweepTimer = -1;
  private boolean sweeping;
  private boolean sweepAgain;
  private boolean stopped;
  private Promise<Void> drained;

  public TargetQueues(Outbox outbox, NodeLease lease, TargetKinds kinds, Connectors connectors, OutboundGuard guard, Scheduler scheduler,
                      Clock clock, RelayConfig config, DeliveryMeters meters) {
    this.guard = guard;
    this.meters = meters;
    this.lease = lease;
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
    outbox.ownership().onChange(() -> context.runOnContext(v -> rebalance()));
    return vertx.eventBus().<String>consumer(Outbox.wakeAddress(node()), this::onWake).completion()
        .onSuccess(v -> sweep());
  }

  /**
   * Drains: no new claims; the attempts in flight are answered and their results written (within the
   * outbound timeouts), claimed rows not sent are released. What this node holds in PostgreSQL is given
   * back by {@link NodeLease#leave()} after this.
   */
  @Override
  public Future<?> stop() {
    stopped = true;
    if (sweepTimer != -1) {
      scheduler.cancel(sweepTimer);
    }
    drained = Promise.promise();
    List.copyOf(active.values()).forEach(TargetQueue::handOff);
    if (active.isEmpty()) {
      drained.tryComplete();
    }
    long patience = config.outbound().connectTimeout().plus(config.outbound().responseTimeout()).toMillis() + 2_000;
    return drained.future().timeout(patience, TimeUnit.MILLISECONDS)
        .onFailure(err -> log.warn("stopping: {} targets still had attempts in flight after {} ms; their rows are sent again by the next owner",
            active.size(), patience))
        .otherwiseEmpty()
        .onComplete(v -> {
          active.values().forEach(TargetQueue::close);
          active.clear();
          sender.close();
        });
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
      if (!stopped) {
        wakeOrForward(body.substring(0, colon), body.substring(colon + 1), message.headers().contains(FORWARDED));
      }
    } finally {
      if (message.headers().contains(Outbox.COUNTED)) {
        outbox.localWakes().decrementAndGet();
      }
    }
  }

  /**
   * A wake-up for a target this node does not own, holds or runs (the sender's view of the members
   * was another) goes on to the owner once; a second time it is dropped, the sweep has it.
   */
  private void wakeOrForward(String kind, String targetId, boolean forwarded) {
    if (owns(targetId) || active.containsKey(targetId) || held.containsKey(targetId)) {
      wake(kind, targetId);
    } else if (!forwarded) {
      outbox.wake(kind, targetId, true);
    }
  }

  /** Whether this node owns the target by the members it sees. */
  boolean owns(String targetId) {
    return node().equals(outbox.ownership().ownerOf(targetId));
  }

  /** The members changed: hand over every target held or run here that another node owns now, and sweep at once. */
  private void rebalance() {
    if (stopped) {
      return;
    }
    for (TargetQueue queue : List.copyOf(active.values())) {
      if (!owns(queue.targetId())) {
        queue.handOff();
      }
    }
    List<Map.Entry<String, String>> moved = held.entrySet().stream()
        .filter(entry -> !active.containsKey(entry.getKey()) && !owns(entry.getKey()))
        .map(entry -> Map.entry(entry.getKey(), entry.getValue())).toList();
    for (Map.Entry<String, String> target : moved) {
      held.remove(target.getKey());
      store.releaseTarget(target.getKey(), node()).onComplete(v -> outbox.wake(target.getValue(), target.getKey()));
    }
    sweep();
  }

  boolean holds(String targetId) {
    return held.containsKey(targetId);
  }

  void acquired(TargetKind kind, String targetId) {
    held.put(targetId, kind.name());
  }

  /** The target is not this node's any more: released after a hand-over, or taken by another node. */
  void lost(String targetId) {
    held.remove(targetId);
  }

  /** A hand-over is done: the actor is dropped and, unless the node stops, the new owner woken. */
  void handedOff(TargetQueue queue, String kind) {
    lost(queue.targetId());
    if (active.get(queue.targetId()) == queue) {
      active.remove(queue.targetId());
    }
    queue.close();
    if (drained != null) {
      if (active.isEmpty()) {
        drained.tryComplete();
      }
    } else {
      outbox.wake(kind, queue.targetId());
    }
  }

  NodeLease lease() {
    return lease;
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
    if (sweeping) {
      sweepAgain = true;
      return;
    }
    if (sweepTimer != -1) {
      scheduler.cancel(sweepTimer);
    }
    sweepTimer = -1;
    sweeping = true;
    Instant began = clock.instant();
    store.dueTargets(began, SWEEP_LIMIT)
        .onSuccess(due -> due.stream()
            .filter(target -> owns(target.targetId()) && !stopped)
            .forEach(target -> wake(target.kind(), target.targetId())))
        .onFailure(err -> log.warn("the delivery sweep failed: {}", err.toString()))
        .onComplete(ar -> {
          sweeping = false;
          if (stopped) {
            return;
          }
          if (sweepAgain) {
            sweepAgain = false;
            sweep();
          } else {
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

  DeliveryMeters meters() {
    return meters;
  }
}
