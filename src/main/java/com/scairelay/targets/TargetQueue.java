package com.scairelay.targets;

import com.scairelay.transport.Delivery;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportResult;
import com.scairelay.transport.Connector;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The queue actor of one target (DESIGN.md §1), on the node that owns the target; the lease of each
 * row it claims makes it the only sender of that row. It claims the head of the target's queue in
 * order, at most {@code max_in_flight} at a time, has the target's connector render each delivery,
 * sends it in-process through the node's HTTP sender behind a circuit breaker, lets its kind's {@link Policy}
 * decide what follows, and waits for the next due row with one timer. Idle, it holds nothing and is dropped.
 *
 * <p>Runs on the delivery verticle's event loop only.
 */
final class TargetQueue {
  private static final Logger log = LoggerFactory.getLogger(TargetQueue.class);

  /** A transient answer, as a failure the breaker counts. */
  private static final class TransientAnswer extends RuntimeException {
    final TransportResult result;

    TransientAnswer(TransportResult result) {
      super(result.describe(), null, false, false);
      this.result = result;
    }
  }

  private final TargetKind kind;
  private final String targetId;
  private final TargetQueues queues;
  private final CircuitBreaker breaker;
  private final ArrayDeque<Claimed> ready = new ArrayDeque<>();
  /** Rows sent and not yet recorded: in flight, or their result being written. Claims skip them. */
  private final Set<Long> open = new HashSet<>();
  private int inFlight;
  private int writing;
  private boolean claiming;
  private boolean wakeAgain;
  private int readyGeneration;
  private boolean resultsFailing;
  private boolean handingOff;
  private boolean handedOff;
  private long timerId = -1;
  private Instant outageStartedAt;
  /** Set while the platform refuses the target's settings: nothing is claimed before then. */
  private Instant parkedUntil;
  private boolean alerted;
  /** The breaker state {@link DeliveryMeters} counts this actor in; null once closed. */
  private CircuitBreakerState shownState;
  private boolean closed;
  private boolean breakerOpenLogged;

  TargetQueue(TargetKind kind, String targetId, TargetQueues queues) {
    this.kind = kind;
    this.targetId = targetId;
    this.queues = queues;
    var settings = queues.settings();
    this.breaker = CircuitBreaker.create("target-" + targetId, queues.vertx(), new CircuitBreakerOptions()
            .setMaxFailures(settings.breakerMaxFailures())
            .setResetTimeout(settings.breakerReset().toMillis())
            .setFailuresRollingWindow(settings.retryWindow().toMillis())
            .setTimeout(-1)
            .setFallbackOnFailure(false))
        .openHandler(v -> {
          show(CircuitBreakerState.OPEN);
          breakerOpened();
        })
        .halfOpenHandler(v -> {
          show(CircuitBreakerState.HALF_OPEN);
          log.debug("target {}: circuit breaker half-open, one probe goes out", targetId);
          queues.vertx().runOnContext(x -> wake());
        })
        .closeHandler(v -> {
          show(CircuitBreakerState.CLOSED);
          breakerOpenLogged = false;
          log.info("{} {}: circuit breaker closed, delivery goes on", kind.name(), targetId);
        });
    show(CircuitBreakerState.CLOSED);
  }

  /** Counts this actor under its breaker's state (the breaker may call from its own timer's thread). */
  private synchronized void show(CircuitBreakerState state) {
    if (closed || state == shownState) {
      return;
    }
    queues.meters().breakerMoved(shownState, state);
    shownState = state;
  }

  /** The first opening after the breaker was closed is a warning; re-opening after a failed probe only a debug line. */
  private void breakerOpened() {
    if (breakerOpenLogged) {
      log.debug("target {}: the probe failed, circuit breaker open again", targetId);
      return;
    }
    breakerOpenLogged = true;
    var settings = queues.settings();
    log.warn("{} {}: circuit breaker open after {} transient failures in a row; nothing is sent for {} ms, then one probe",
        kind.name(), targetId, settings.breakerMaxFailures(), settings.breakerReset().toMillis());
  }

  /** Look at the queue again: new rows, a resumed target, a due retry, a free slot. */
  void wake() {
    if (handingOff) {
      finishHandOff();
      return;
    }
    if (claiming) {
      wakeAgain = true;
      return;
    }
    claiming = true;
    hold()
        .compose(held -> held ? kind.lookup().apply(targetId).compose(this::claimFor) : Future.<Void>succeededFuture())
        .onFailure(err -> log.warn("target {}: claiming failed, the sweep will try again: {}", targetId, err.toString()))
        .onComplete(ar -> {
          claiming = false;
          if (handingOff) {
            finishHandOff();
          } else if (wakeAgain) {
            wakeAgain = false;
            wake();
          } else if (isIdle()) {
            queues.passivate(this);
          }
        });
  }

  String targetId() {
    return targetId;
  }

  /**
   * The target moved to another node, or this node stops: nothing more is claimed; once the attempts
   * in flight are answered and written, the rows claimed and not sent and the target itself are
   * released, and the queues are told ({@link TargetQueues#handedOff}).
   */
  void handOff() {
    handingOff = true;
    cancelTimer();
    finishHandOff();
  }

  private void finishHandOff() {
    if (handedOff || claiming || inFlight > 0 || writing > 0) {
      return;
    }
    handedOff = true;
    releaseReady()
        .compose(v -> queues.store().releaseTarget(targetId, queues.node()))
        .onFailure(err -> log.warn("target {}: releasing it failed, another node takes it when this node's lease runs out: {}",
            targetId, err.toString()))
        .onComplete(ar -> queues.handedOff(this, kind.name()));
  }

  /** This node holds the target in PostgreSQL, or takes it now if it may (no live holder). */
  private Future<Boolean> hold() {
    if (queues.holds(targetId)) {
      return Future.succeededFuture(true);
    }
    if (!queues.owns(targetId)) {
      return Future.succeededFuture(false);
    }
    return queues.store().acquire(kind, targetId, queues.node()).map(held -> {
      if (held) {
        queues.acquired(kind, targetId);
      }
      return held;
    });
  }

  /** Working now: claiming, sending or writing a result (a queue waiting on its timer or breaker is not). */
  boolean isBusy() {
    return claiming || inFlight > 0 || writing > 0;
  }

  boolean isIdle() {
    return !handingOff && inFlight == 0 && writing == 0 && ready.isEmpty() && !claiming && timerId == -1
        && breaker.state() == CircuitBreakerState.CLOSED;
  }

  void close() {
    cancelTimer();
    breaker.close();
    synchronized (this) {
      if (!closed) {
        closed = true;
        queues.meters().breakerMoved(shownState, null);
        shownState = null;
      }
    }
  }

  /**
   * Sends what is already claimed, or claims the next due rows of the queue, in order, up to
   * {@code deliveries.prefetch} ahead of the {@code max_in_flight} being sent: the next message goes
   * out as soon as the previous one is answered, while its result is still being written.
   */
  private Future<Void> claimFor(Optional<Target> found) {
    if (found.isEmpty() || !found.get().sending()) {
      cancelTimer();
      return releaseReady();
    }
    Target target = found.get();
    if (parkedUntil != null) {
      if (queues.clock().instant().isBefore(parkedUntil)) {
        armTimer(parkedUntil);
        return releaseReady();
      }
      parkedUntil = null;
    }
    CircuitBreakerState state = breaker.state();
    int slots = state == CircuitBreakerState.HALF_OPEN ? 1 : target.maxInFlight();
    if (state == CircuitBreakerState.OPEN || inFlight >= slots) {
      return Future.succeededFuture();
    }
    if (!ready.isEmpty()) {
      sendReady(target, slots);
      return Future.succeededFuture();
    }
    Instant now = queues.clock().instant();
    int prefetch = Math.max(slots, queues.settings().prefetch());
    Instant leaseUntil = now.plus(queues.settings().lease());
    return queues.store().claimHead(kind, targetId, prefetch + open.size(), prefetch, queues.node(), now, leaseUntil,
            open.toArray(Long[]::new))
        .map(head -> {
          if (!head.owned()) {
            // Another node took the target (this node's lease ran out): what it claimed is that node's now.
            // Should the target be free again and this node its owner, the next look takes it back.
            queues.lost(targetId);
            cancelTimer();
            wakeAgain = queues.owns(targetId);
            return null;
          }
          if (head.claimed().isEmpty() && head.waitUntil() != null) {
            armTimer(head.waitUntil());
          } else {
            cancelTimer();
          }
          ready.addAll(head.claimed());
          readyGeneration = queues.lease().generation();
          resultsFailing = false;
          sendReady(target, slots);
          return null;
        });
  }

  /**
   * Starts attempts while slots are free; none once the node's lease has run out, nor of rows claimed
   * before it ran out (another node may have taken the target in the gap): those are given back.
   */
  private void sendReady(Target target, int slots) {
    if (resultsFailing) {
      return; // the rows were given back; the next claim starts again
    }
    if (!queues.lease().valid() || readyGeneration != queues.lease().generation()) {
      log.debug("target {}: the node's lease ran out, its claimed rows are given back", targetId);
      boolean stale = queues.lease().valid();
      releaseReady().onComplete(v -> {
        if (stale) {
          wake(); // held again: claim afresh
        }
      });
      return;
    }
    // At most twice max_in_flight attempts unrecorded: what a node that dies sends again is bounded per target.
    while (inFlight < slots && open.size() < 2 * slots && !ready.isEmpty()) {
      send(target, ready.poll());
    }
  }

  /** Gives back the leases of claimed rows not sent yet: a retry or a pause holds the queue. */
  private Future<Void> releaseReady() {
    if (ready.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Long> ids = ready.stream().map(Claimed::id).toList();
    ready.clear();
    return queues.store().release(ids, queues.node());
  }

  private void send(Target target, Claimed head) {
    Instant attemptedAt = queues.clock().instant();
    Connector connector = queues.connectors().find(target.connector()).orElse(null);
    if (connector == null) {
      inFlight++;
      open.add(head.id());
      record(target, head, TransportResult.failed(Outcome.PERMANENT, "no connector '" + target.connector() + "' on this node", 0),
          attemptedAt);
      return;
    }
    List<Claimed> batch = batch(connector, target, head, attemptedAt);
    List<Delivery> deliveries = batch.stream().map(d -> delivery(target, d, attemptedAt)).toList();
    inFlight += batch.size();
    batch.forEach(d -> open.add(d.id()));
    breaker.<TransportResult>execute(() -> transport(connector, deliveries))
        .recover(err -> err instanceof TransientAnswer answer ? Future.succeededFuture(answer.result) : Future.failedFuture(err))
        .onSuccess(result -> {
          queues.meters().of(kind.name(), target.connector()).answered(result);
          if (result.broken()) {
            park();
          }
          batch.forEach(d -> record(target, d, result, attemptedAt));
        })
        .onFailure(err -> {
          // The breaker refused the call: no attempt was made, give the leases back.
          inFlight -= batch.size();
          batch.forEach(d -> open.remove(d.id()));
          queues.store().release(batch.stream().map(Claimed::id).toList(), queues.node()).onComplete(v -> wake());
        });
  }

  private static Delivery delivery(Target target, Claimed claimed, Instant now) {
    return new Delivery(claimed.id(), claimed.eventId(), claimed.payload(), target.config(), target.secret(), target.credentials(), now);
  }

  /**
   * The head alone, or with the rows behind it its connector joins into one post when the backlog
   * has grown (a paced platform): taken off {@code ready} in order.
   */
  private List<Claimed> batch(Connector connector, Target target, Claimed head, Instant now) {
    if (!connector.coalesces() || ready.isEmpty()) {
      return List.of(head);
    }
    List<Claimed> candidates = new ArrayList<>(ready.size() + 1);
    candidates.add(head);
    candidates.addAll(ready);
    int n = Math.max(1, Math.min(candidates.size(), connector.coalesce(candidates.stream().map(d -> delivery(target, d, now)).toList())));
    for (int i = 1; i < n; i++) {
      ready.poll();
    }
    return List.copyOf(candidates.subList(0, n));
  }

  /**
   * The platform refused the bridge's own settings: the alert is raised with this delivery's failure;
   * the rest of the queue waits {@code deliveries.broken_hold_seconds} before one more try, so a dead
   * bridge costs the platform one request per hold, not one per queued message.
   */
  private void park() {
    parkedUntil = queues.clock().instant().plus(queues.settings().brokenHold());
    log.warn("target {}: the platform refuses its settings; nothing more is sent to it before {}", targetId, parkedUntil);
  }

  /** Sent in-process: the sender never fails, a transient answer fails the breaker's call so it is counted. */
  private Future<TransportResult> transport(Connector connector, List<Delivery> deliveries) {
    return connector.send(deliveries, queues.sender())
        .compose(result -> result.outcome() == Outcome.TRANSIENT ? Future.failedFuture(new TransientAnswer(result)) : Future.succeededFuture(result));
  }

  private void record(Target target, Claimed delivery, TransportResult result, Instant attemptedAt) {
    queues.meters().of(kind.name(), target.connector()).counted(result.outcome());
    Instant now = queues.clock().instant();
    int attempts = delivery.attempts() + 1;
    int rateLimited = delivery.rateLimited() + (result.outcome() == Outcome.RATE_LIMITED ? 1 : 0);
    Instant firstFailedAt = delivery.firstFailedAt();
    if (result.outcome() == Outcome.TRANSIENT) {
      if (outageStartedAt == null) {
        outageStartedAt = attemptedAt;
      }
      if (firstFailedAt == null) {
        firstFailedAt = outageStartedAt;
      }
    } else if (result.outcome() != Outcome.RATE_LIMITED) {
      outageStartedAt = null;
      alerted = false;
    }
    Decision decision = kind.policy().decide(result, attempts, delivery.rateLimited(), firstFailedAt, now);
    boolean alert = decision.unreachable() && !alerted;
    alerted |= decision.unreachable();
    boolean queueMovesOn = decision.kind() != Decision.Kind.RETRY;
    writing++;
    queues.writer().write(new ResultWriter.Result(kind, targetId, delivery, result, decision, attempts, rateLimited,
            firstFailedAt, attemptedAt, alert))
        .onFailure(err -> {
          // PostgreSQL is not taking results: send nothing more of what is claimed (each answer would be
          // lost too and the message sent again); claim afresh once a claim succeeds.
          resultsFailing = true;
          releaseReady();
          log.warn("target {}: the result of delivery {} was not written, its lease will expire and it is sent again: {}",
              targetId, delivery.id(), err.toString());
        })
        .onComplete(ar -> {
          writing--;
          open.remove(delivery.id());
          if (!queueMovesOn) {
            inFlight--;
          }
          wake();
        });
    if (queueMovesOn) {
      inFlight--;
      wake();
    } else {
      releaseReady();
    }
  }

  private void armTimer(Instant at) {
    cancelTimer();
    timerId = queues.scheduler().at(at, () -> {
      timerId = -1;
      wake();
    });
  }

  private void cancelTimer() {
    if (timerId != -1) {
      queues.scheduler().cancel(timerId);
      timerId = -1;
    }
  }
}
