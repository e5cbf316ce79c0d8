package com.scairelay.ingress;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code relay_inbound_requests_total{transport, outcome}}: every request to a bridge's inbound
 * endpoint, counted once its answer is sent, by the bridge's transport ({@code none} when there is no
 * such bridge) and by what it was answered. The counters of the node's transports are registered up
 * front; a request looks its counter up in two small maps.
 */
public final class InboundMeters {
  static final String NO_BRIDGE = "none";
  private static final String KEY = "relay.inbound.answer";

  /** What an inbound request was answered, as the {@code outcome} label says it. */
  enum Outcome {
    /** Stored: a new event (202 for {@code custom}). */
    ACCEPTED,
    /** Its foreign id was seen within the dedupe window: answered with the first event. */
    DUPLICATE,
    /** Answered without storing anything (a platform's handshake such as Slack's url_verification). */
    ANSWERED,
    /** 401: signature missing, malformed, wrong or out of time. */
    UNAUTHORIZED,
    /** Any other 4xx: unknown bridge, outbound-only, bad JSON, body too large. */
    REJECTED,
    /** 503: paused bridge, storage unavailable or busy, no answer in time. */
    UNAVAILABLE,
    /** Any other 5xx. */
    FAILED;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** What the route learnt of one request; read when its answer is sent. */
  static final class Answer {
    private String transport = NO_BRIDGE;
    private Outcome stored;

    void transport(String name) {
      transport = name;
    }

    void stored(boolean duplicate) {
      stored = duplicate ? Outcome.DUPLICATE : Outcome.ACCEPTED;
    }
  }

  private final MeterRegistry registry;
  private final Map<String, Counter[]> byTransport = new ConcurrentHashMap<>();

  public InboundMeters(MeterRegistry registry, Iterable<String> transports) {
    this.registry = registry;
    counters(NO_BRIDGE);
    transports.forEach(this::counters);
  }

  /** The request's answer, counted once when it is sent (whoever answers: the route, the problem handler, the timeout). */
  Answer watch(RoutingContext ctx) {
    Answer answer = ctx.get(KEY);
    if (answer != null) {
      return answer;
    }
    Answer created = new Answer();
    ctx.put(KEY, created);
    ctx.addEndHandler(sent -> {
      if (sent.succeeded()) { // a connection closed before its answer counts as nothing
        counters(created.transport)[outcome(created.stored, ctx.response().getStatusCode()).ordinal()].increment();
      }
    });
    return created;
  }

  static Outcome outcome(Outcome stored, int status) {
    if (status < 300 && stored != null) {
      return stored;
    }
    if (status < 400) {
      return Outcome.ANSWERED;
    }
    if (status == 401) {
      return Outcome.UNAUTHORIZED;
    }
    if (status == 503) {
      return Outcome.UNAVAILABLE;
    }
    return status < 500 ? Outcome.REJECTED : Outcome.FAILED;
  }

  private Counter[] counters(String transport) {
    Counter[] known = byTransport.get(transport);
    return known != null ? known : byTransport.computeIfAbsent(transport, this::register);
  }

  private Counter[] register(String transport) {
    Outcome[] outcomes = Outcome.values();
    Counter[] counters = new Counter[outcomes.length];
    for (Outcome outcome : outcomes) {
      counters[outcome.ordinal()] = Counter.builder("relay.inbound.requests")
          .description("Requests to bridges' inbound endpoints, by transport and by what they were answered")
          .tag("transport", transport)
          .tag("outcome", outcome.label)
          .register(registry);
    }
    return counters;
  }
}
