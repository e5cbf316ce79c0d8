package com.scairelay.targets;

import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.scairelay.store.Times.utc;

/**
 * Writes attempt results in batches: what arrives within a millisecond (or up to
 * {@code deliveries.result_batch_max}) is one transaction of two multi-row statements, plus what the
 * target kinds record of deliveries that failed for good. A result only changes a delivery whose lease this node
 * still holds; the attempt itself is always logged.
 */
final class ResultWriter {
  private static final Logger log = LoggerFactory.getLogger(ResultWriter.class);
  private static final String UPDATE = """
      UPDATE deliveries d SET
        status = CASE WHEN d.status = 'cancelled' AND u.status = 'pending' THEN 'cancelled' ELSE u.status END,
        attempts = u.attempts, rate_limited = u.rate_limited,
        next_attempt_at = coalesce(u.next_attempt_at, d.next_attempt_at), first_failed_at = u.first_failed_at,
        lease_owner = NULL, lease_expires_at = NULL,
        last_status_code = u.status_code, last_error = u.error, updated_at = u.attempted_at
      FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::int[], $8::text[], $9::timestamptz[])
        AS u (id, status, attempts, rate_limited, next_attempt_at, first_failed_at, status_code, error, attempted_at)
      WHERE d.id = u.id AND d.lease_owner = $10""";
  private static final String INSERT_ATTEMPTS = """
      INSERT INTO delivery_attempts (delivery_id, attempted_at, outcome, status_code, latency_ms, error, foreign_id)
      SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[])""";

  /** One attempt and what the policy made of it. */
  record Result(TargetKind kind, String targetId, Claimed delivery, TransportResult answer, Decision decision, int attempts,
                int rateLimited, Instant firstFailedAt, Instant attemptedAt, boolean alertUnreachable) {
  }

  private record Pending(Result result, Promise<Void> done) {
  }

  private final Vertx vertx;
  private final Outbox outbox;
  private final String node;
  private final int maxBatch;
  private List<Pending> pending = new ArrayList<>();
  private boolean scheduled;
  private boolean writing;

  ResultWriter(Vertx vertx, Outbox outbox, String node, int maxBatch) {
    this.vertx = vertx;
    this.outbox = outbox;
    this.node = node;
    this.maxBatch = maxBatch;
  }

  Future<Void> write(Result result) {
    Promise<Void> done = Promise.promise();
    pending.add(new Pending(result, done));
    if (writing) {
      return done.future();
    }
    if (pending.size() >= maxBatch) {
      flush();
    } else if (!scheduled) {
      scheduled = true;
      vertx.setTimer(1, id -> flush());
    }
    return done.future();
  }

  /** One transaction at a time: results that arrive while it commits form the next batch (group commit). */
  private void flush() {
    scheduled = false;
    if (pending.isEmpty() || writing) {
      return;
    }
    List<Pending> batch = pending.size() <= maxBatch ? pending : new ArrayList<>(pending.subList(0, maxBatch));
    pending = pending.size() <= maxBatch ? new ArrayList<>() : new ArrayList<>(pending.subList(maxBatch, pending.size()));
    List<Result> results = batch.stream().map(Pending::result).toList();
    writing = true;
    outbox.inTransaction(tx -> update(tx, results).compose(v -> logAttempts(tx, results)).compose(v -> recordCreated(tx, results))
            .compose(v -> auditFailures(tx, results)))
        .onComplete(ar -> {
          writing = false;
          batch.forEach(p -> p.done().handle(ar));
          flush();
        });
  }

  private Future<Void> update(Outbox.Tx conn, List<Result> results) {
    int n = results.size();
    Long[] ids = new Long[n];
    String[] statuses = new String[n];
    Integer[] attempts = new Integer[n];
    Integer[] rateLimited = new Integer[n];
    OffsetDateTime[] next = new OffsetDateTime[n];
    OffsetDateTime[] firstFailed = new OffsetDateTime[n];
    Integer[] codes = new Integer[n];
    String[] errors = new String[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      Result r = results.get(i);
      ids[i] = r.delivery().id();
      statuses[i] = r.decision().status();
      attempts[i] = r.attempts();
      rateLimited[i] = r.rateLimited();
      next[i] = utc(r.decision().nextAttemptAt());
      firstFailed[i] = utc(r.firstFailedAt());
      codes[i] = r.answer().statusCode();
      errors[i] = r.decision().reason() != null ? r.decision().reason() : r.answer().error();
      at[i] = utc(r.attemptedAt());
    }
    Tuple args = Tuple.tuple(List.of(ids, statuses, attempts, rateLimited, next, firstFailed, codes, errors, at, node));
    return conn.preparedQuery(UPDATE).execute(args).mapEmpty();
  }

  private Future<Void> logAttempts(Outbox.Tx conn, List<Result> results) {
    Tuple args = Tuple.tuple(List.of(
        results.stream().map(r -> r.delivery().id()).toArray(Long[]::new),
        results.stream().map(r -> utc(r.attemptedAt())).toArray(OffsetDateTime[]::new),
        results.stream().map(r -> r.answer().outcome().name().toLowerCase()).toArray(String[]::new),
        results.stream().map(r -> r.answer().statusCode()).toArray(Integer[]::new),
        results.stream().map(r -> (int) r.answer().latencyMs()).toArray(Integer[]::new),
        results.stream().map(r -> r.answer().error()).toArray(String[]::new),
        results.stream().map(r -> r.answer().foreignId()).toArray(String[]::new)));
    return conn.preparedQuery(INSERT_ATTEMPTS).execute(args).mapEmpty();
  }

  /** The foreign ids of the messages delivered attempts created, recorded by their kind, in this transaction. */
  private Future<Void> recordCreated(Outbox.Tx tx, List<Result> results) {
    Map<TargetKind, List<TargetKind.CreatedMessage>> byKind = new HashMap<>();
    for (Result r : results) {
      if (r.decision().kind() == Decision.Kind.DELIVERED && r.answer().foreignId() != null) {
        byKind.computeIfAbsent(r.kind(), k -> new ArrayList<>())
            .add(new TargetKind.CreatedMessage(r.targetId(), r.delivery().eventId(), r.answer().foreignId(), r.attemptedAt()));
      }
    }
    Future<Void> chain = Future.succeededFuture();
    for (var entry : byKind.entrySet()) {
      chain = chain.compose(v -> entry.getKey().onCreated().record(tx, entry.getValue()));
    }
    return chain;
  }

  /** Each delivery given up for good is recorded by its kind, in this transaction, and logged once it commits. */
  private Future<Void> auditFailures(Outbox.Tx tx, List<Result> results) {
    Future<Void> chain = Future.succeededFuture();
    for (Result r : results) {
      if (r.decision().kind() != Decision.Kind.FAILED) {
        continue;
      }
      FailedDelivery failed = new FailedDelivery(r.targetId(), r.delivery().id(), r.delivery().eventId(), r.delivery().payload(),
          r.attempts(), r.answer().describe(), r.decision().reason(), r.alertUnreachable());
      chain = chain.compose(v -> r.kind().onFailure().record(tx, failed));
      tx.afterCommit(() -> logFailure(r.kind(), failed, r.answer()));
    }
    return chain;
  }

  /**
   * The status code or the connection error, and why the delivery ends; never the answer's body, which an
   * endpoint that echoes its request would fill with our signature and headers (the delivery log has it).
   */
  private static void logFailure(TargetKind kind, FailedDelivery failed, TransportResult answer) {
    String last = answer.statusCode() != null ? "HTTP " + answer.statusCode() : String.valueOf(answer.error());
    String reason = failed.reason() == null ? "" : failed.reason();
    int cut = reason.lastIndexOf(": " + failed.lastAnswer());
    log.warn("delivery {} of event {} to {} {} failed for good after {} attempts: last answer {}{}", failed.deliveryId(), failed.eventId(),
        kind.name(), failed.targetId(), failed.attempts(), last, cut > 0 ? " (" + reason.substring(0, cut) + ")" : "");
  }
}
