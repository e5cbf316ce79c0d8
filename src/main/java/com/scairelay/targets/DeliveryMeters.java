package com.scairelay.targets;

import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.circuitbreaker.CircuitBreakerState;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The delivery side's meters: {@code relay_delivery_attempts_total{kind, transport, outcome}} (one per
 * delivery attempted, by the transport's classification of the answer),
 * {@code relay_delivery_attempt_seconds{kind, transport}} (one per request sent, a coalesced post once)
 * and {@code relay_delivery_breakers{state}} (the active queue actors by the state of their circuit
 * breaker; an idle target has no actor, and so no breaker, once its breaker is closed). The meters of a
 * kind and transport are registered on its first attempt, then found in two small maps.
 */
public final class DeliveryMeters {
  private static final Duration[] LATENCIES = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2_500),
      Duration.ofSeconds(5), Duration.ofSeconds(10)};

  /** The meters of one kind and transport. */
  static final class Attempts {
    private final Counter[] byOutcome;
    private final Timer latency;

    private Attempts(MeterRegistry registry, String kind, String transport) {
      Outcome[] outcomes = Outcome.values();
      byOutcome = new Counter[outcomes.length];
      for (Outcome outcome : outcomes) {
        byOutcome[outcome.ordinal()] = Counter.builder("relay.delivery.attempts")
            .description("Delivery attempts, by target kind, transport and how the transport classified the answer")
            .tag("kind", kind).tag("transport", transport).tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
            .register(registry);
      }
      latency = Timer.builder("relay.delivery.attempt")
          .description("Time from sending a delivery to its answer (or failure), per request sent")
          .tag("kind", kind).tag("transport", transport)
          .serviceLevelObjectives(LATENCIES)
          .register(registry);
    }

    void answered(TransportResult result) {
      latency.record(result.latencyMs(), TimeUnit.MILLISECONDS);
    }

    void counted(Outcome outcome) {
      byOutcome[outcome.ordinal()].increment();
    }
  }

  private final MeterRegistry registry;
  private final Map<String, Map<String, Attempts>> byKind = new ConcurrentHashMap<>();
  private final AtomicInteger[] breakers = new AtomicInteger[CircuitBreakerState.values().length];

  public DeliveryMeters(MeterRegistry registry) {
    this.registry = registry;
    for (CircuitBreakerState state : CircuitBreakerState.values()) {
      breakers[state.ordinal()] = new AtomicInteger();
      Gauge.builder("relay.delivery.breakers", breakers[state.ordinal()], AtomicInteger::get)
          .description("Active target queues by the state of their circuit breaker")
          .tag("state", state.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
  }

  Attempts of(String kind, String transport) {
    Map<String, Attempts> byTransport = byKind.computeIfAbsent(kind, k -> new ConcurrentHashMap<>());
    Attempts known = byTransport.get(transport);
    return known != null ? known : byTransport.computeIfAbsent(transport, t -> new Attempts(registry, kind, t));
  }

  /** A breaker moved from {@code from} to {@code to}; null is "no breaker" (an actor made or dropped). */
  void breakerMoved(CircuitBreakerState from, CircuitBreakerState to) {
    if (from != null) {
      breakers[from.ordinal()].decrementAndGet();
    }
    if (to != null) {
      breakers[to.ordinal()].incrementAndGet();
    }
  }
}
