package com.scairelay.targets;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code relay_outbox_depth{kind, transport}} and {@code relay_outbox_oldest_age_seconds{kind, transport}}:
 * the pending deliveries in the outbox (queued, waiting for a retry, or held by a paused target) and how
 * long the oldest of them has waited, by the node's clock. Read by {@link #refresh}, which the node runs
 * every {@code metrics.outbox_interval_ms}: one statement per kind over the pending rows only (their
 * partial indexes), never per request. The outbox is the cluster's, so every node shows the same figures.
 */
public final class OutboxGauges {
  private static final Logger log = LoggerFactory.getLogger(OutboxGauges.class);
  /** Grouped by target first, so a kind's transport expression runs once per target, not per row. */
  private static final String PENDING = """
      SELECT t.transport, sum(t.n)::bigint, min(t.oldest) FROM (
        SELECT %s AS transport, d.n, d.oldest FROM (
          SELECT target_id, count(*) AS n, min(created_at) AS oldest FROM deliveries
          WHERE status = 'pending' AND target_kind = $1 GROUP BY target_id) d) t
      GROUP BY t.transport""";

  private static final class Pending {
    final AtomicLong depth = new AtomicLong();
    volatile Instant oldest;
  }

  private final Pool pool;
  private final TargetKinds kinds;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<String, Map<String, Pending>> byKind = new ConcurrentHashMap<>();

  public OutboxGauges(Pool pool, TargetKinds kinds, MeterRegistry registry, Clock clock) {
    this.pool = pool;
    this.kinds = kinds;
    this.registry = registry;
    this.clock = clock;
  }

  /** Reads the pending deliveries of every kind; a kind and transport with none left shows 0. */
  public Future<Void> refresh() {
    List<Future<Void>> reads = new ArrayList<>();
    for (TargetKind kind : kinds.all()) {
      reads.add(pool.preparedQuery(PENDING.formatted(kind.transport())).execute(Tuple.of(kind.name())).map(rows -> {
        Set<String> seen = new HashSet<>();
        for (Row row : rows) {
          String transport = row.getString(0) == null ? "unknown" : row.getString(0);
          seen.add(transport);
          Pending pending = pending(kind.name(), transport);
          pending.depth.set(row.getLong(1));
          pending.oldest = row.getOffsetDateTime(2).toInstant();
        }
        byKind.getOrDefault(kind.name(), Map.of()).forEach((transport, pending) -> {
          if (!seen.contains(transport)) {
            pending.depth.set(0);
            pending.oldest = null;
          }
        });
        return null;
      }));
    }
    return Future.all(reads).<Void>mapEmpty()
        .onFailure(err -> log.debug("reading the outbox gauges failed: {}", err.toString()));
  }

  private Pending pending(String kind, String transport) {
    return byKind.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).computeIfAbsent(transport, t -> {
      Pending pending = new Pending();
      Gauge.builder("relay.outbox.depth", pending, p -> p.depth.get())
          .description("Pending deliveries in the outbox (the cluster's), by target kind and transport")
          .tag("kind", kind).tag("transport", t).register(registry);
      Gauge.builder("relay.outbox.oldest.age", pending, this::age)
          .description("How long the oldest pending delivery has waited, by target kind and transport")
          .tag("kind", kind).tag("transport", t).baseUnit("seconds").register(registry);
      return pending;
    });
  }

  private double age(Pending pending) {
    Instant oldest = pending.oldest;
    return oldest == null ? 0 : Math.max(0, Duration.between(oldest, clock.instant()).toMillis() / 1000.0);
  }
}
