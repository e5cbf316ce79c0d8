package com.scairelay.targets;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A kind of target (bridge, webhook subscription) as data: the one delivery core reads everything that
 * differs between kinds from here, never from a target id.
 *
 * @param name       stored as {@code deliveries.target_kind}; admin paths are {@code /v1/admin/<name>s/{id}}
 * @param lookup     the live target behind an id, empty when unknown or deleted
 * @param claimJoin  the tables a claim joins to read the payload: SQL after {@code UPDATE deliveries d SET … }
 *                   that starts {@code FROM claimable c, …} and ends with the {@code RETURNING} columns
 *                   {@code d.id, d.event_id, d.attempts, d.rate_limited, d.first_failed_at} and its own
 * @param payload    the delivery's payload from a claimed row
 * @param held       an SQL condition on {@code d.target_id}: the target is paused or gone, the sweep skips it
 * @param policy     what follows an attempt
 * @param onFailure  records a delivery given up for good, in the result's transaction
 * @param onCreated  records the foreign message ids deliveries created, in the result's transaction
 * @param transport  an SQL expression of {@code d.target_id}: the target's transport, for the outbox meters
 */
public record TargetKind(
    String name,
    Function<String, Future<Optional<Target>>> lookup,
    String claimJoin,
    Function<Row, JsonObject> payload,
    String held,
    Policy policy,
    FailureAudit onFailure,
    CreatedMessages onCreated,
    String transport) {

  /** A kind whose targets all have the transport of its name. */
  public TargetKind(String name, Function<String, Future<Optional<Target>>> lookup, String claimJoin, Function<Row, JsonObject> payload,
                    String held, Policy policy, FailureAudit onFailure, CreatedMessages onCreated) {
    this(name, lookup, claimJoin, payload, held, policy, onFailure, onCreated, "'" + name.replace("'", "''") + "'");
  }

  /** A kind whose deliveries create nothing the core needs to remember. */
  public TargetKind(String name, Function<String, Future<Optional<Target>>> lookup, String claimJoin, Function<Row, JsonObject> payload,
                    String held, Policy policy, FailureAudit onFailure) {
    this(name, lookup, claimJoin, payload, held, policy, onFailure, (tx, created) -> Future.succeededFuture());
  }

  /** How a kind records the messages its deliveries created on the foreign side. */
  @FunctionalInterface
  public interface CreatedMessages {
    Future<Void> record(Outbox.Tx tx, List<CreatedMessage> created);
  }

  /** A delivered event and the id the foreign side gave the message it created. */
  public record CreatedMessage(String targetId, String eventId, String foreignId, java.time.Instant at) {
  }

  /** How a kind records a delivery given up for good. */
  @FunctionalInterface
  public interface FailureAudit {
    Future<Void> record(Outbox.Tx tx, FailedDelivery failed);
  }
}
