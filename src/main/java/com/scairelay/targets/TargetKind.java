package com.scairelay.targets;

import com.scairelay.http.ProblemException;
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
 * @param queueRoom  an SQL expression: how many more deliveries the target {@code $1} takes now, or NULL
 *                   when it takes any number (a paused webhook subscription takes up to its queue limit);
 *                   replays ({@link Replays}) queue no more than that
 * @param payloadKept an SQL condition on {@code d.event_id}: the delivery's payload is still stored (retention
 *                   may have purged it); a replay of one whose payload is gone could never be claimed
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
    String transport,
    String queueRoom,
    String payloadKept) {

  /** A kind whose targets all have the transport of its name. */
  public TargetKind(String name, Function<String, Future<Optional<Target>>> lookup, String claimJoin, Function<Row, JsonObject> payload,
                    String held, Policy policy, FailureAudit onFailure, CreatedMessages onCreated) {
    this(name, lookup, claimJoin, payload, held, policy, onFailure, onCreated, "'" + name.replace("'", "''") + "'");
  }

  /** A kind whose queue is unbounded and whose payloads are never purged. */
  public TargetKind(String name, Function<String, Future<Optional<Target>>> lookup, String claimJoin, Function<Row, JsonObject> payload,
                    String held, Policy policy, FailureAudit onFailure, CreatedMessages onCreated, String transport) {
    this(name, lookup, claimJoin, payload, held, policy, onFailure, onCreated, transport, "NULL", "true");
  }

  /** A kind whose deliveries create nothing the core needs to remember. */
  public TargetKind(String name, Function<String, Future<Optional<Target>>> lookup, String claimJoin, Function<Row, JsonObject> payload,
                    String held, Policy policy, FailureAudit onFailure) {
    this(name, lookup, claimJoin, payload, held, policy, onFailure, (tx, created) -> Future.succeededFuture());
  }

  /** This kind, taking no more than {@code queueRoom} (see the component) deliveries a replay queues. */
  public TargetKind withQueueRoom(String queueRoom) {
    return new TargetKind(name, lookup, claimJoin, payload, held, policy, onFailure, onCreated, transport, queueRoom, payloadKept);
  }

  /** This kind, whose deliveries' payloads are still stored when {@code payloadKept} (see the component) holds. */
  public TargetKind withPayloadKept(String payloadKept) {
    return new TargetKind(name, lookup, claimJoin, payload, held, policy, onFailure, onCreated, transport, queueRoom, payloadKept);
  }

  /** The live target behind {@code id}, or a 404 naming it. */
  Future<Target> found(String id) {
    return lookup.apply(id).map(target -> target.orElseThrow(() -> ProblemException.notFound("no " + name + " " + id)));
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
