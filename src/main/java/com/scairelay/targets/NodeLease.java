package com.scairelay.targets;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The node's lease in PostgreSQL ({@code relay_nodes}), the fence of the delivery side: a node may
 * start an attempt only while its lease is valid, and another node takes over its targets only once
 * the lease has run out by PostgreSQL's clock. Renewed every fifth of {@code cluster.node_lease_ms}.
 *
 * <p>No two clocks are compared: PostgreSQL sets the expiry from its own {@code now()}, which is
 * later than the moment the renewal was sent, and the node counts its lease from that moment on its
 * monotonic clock. So the node believes its lease over no later than PostgreSQL does, whatever the
 * wall clocks say; only a difference in clock rates, far below a second per lease, could matter.
 * After each renewal it tells {@link Ownership} which nodes hold a valid lease.
 */
public final class NodeLease {
  private static final Logger log = LoggerFactory.getLogger(NodeLease.class);
  private static final String RENEW = """
      INSERT INTO relay_nodes (node_id, http_url, started_at, renewed_at, expires_at)
      VALUES ($1, $2, now(), now(), now() + $3 * interval '1 millisecond')
      ON CONFLICT (node_id) DO UPDATE SET http_url = excluded.http_url, renewed_at = now(), expires_at = excluded.expires_at""";
  private static final String FORGET_DEAD = "DELETE FROM relay_nodes WHERE expires_at < now() - interval '1 day'";
  private static final String LEAVE = """
      WITH targets AS (UPDATE target_owners SET node_id = '' WHERE node_id = $1),
           leases AS (UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'pending' AND lease_owner = $1)
      DELETE FROM relay_nodes WHERE node_id = $1""";
  private static final String NODES = """
      SELECT node_id, http_url, started_at, renewed_at, expires_at, expires_at > now() AS live,
        (SELECT count(*) FROM target_owners o WHERE o.node_id = n.node_id) AS targets_held
      FROM relay_nodes n WHERE expires_at > now() - interval '1 hour' ORDER BY started_at""";

  private static final String VALID = "SELECT node_id FROM relay_nodes WHERE expires_at > now()";
  private static final String HOLDER = "SELECT node_id, epoch, acquired_at, target_kind FROM target_owners WHERE target_id = $1";

  private final Vertx vertx;
  private final Ownership ownership;
  private final Pool pool;
  private final String nodeId;
  private volatile String httpUrl;
  private final Duration ttl;
  private volatile long validUntilNanos = System.nanoTime();
  private volatile boolean wasValid;
  private volatile int generation;
  private long timer = -1;
  private long renewals;
  private boolean left;

  /** @param ownership told after every renewal which nodes hold a valid lease */
  public NodeLease(Vertx vertx, Pool pool, String nodeId, String httpUrl, Duration ttl, Ownership ownership) {
    this.ownership = ownership;
    this.vertx = vertx;
    this.pool = pool;
    this.nodeId = nodeId;
    this.httpUrl = httpUrl;
    this.ttl = ttl;
  }

  /** Takes the lease (waits for the first renewal, which may fail: the timer keeps trying) and keeps it. */
  public Future<Void> start() {
    timer = vertx.setPeriodic(Math.max(50, ttl.toMillis() / 5), id -> renew());
    return renew().otherwiseEmpty();
  }

  /** Whether an attempt may start now. Safe from any thread. */
  public boolean valid() {
    return System.nanoTime() - validUntilNanos < 0;
  }

  /**
   * Counts the times the lease was taken again after it had run out. Rows claimed under an earlier
   * generation are not sent: another node may have taken their target over in the gap.
   */
  public int generation() {
    return generation;
  }

  public String nodeId() {
    return nodeId;
  }

  /** Where this node answers HTTP, shown to operators; written with the next renewal. */
  public void httpUrl(String url) {
    this.httpUrl = url;
  }

  /** Which node holds the target in PostgreSQL now (may claim its queue), and since which epoch; empty when none. */
  public Future<JsonObject> holder(String targetId) {
    return pool.preparedQuery(HOLDER).execute(Tuple.of(targetId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new JsonObject().put("node_id", row.getString("node_id")).put("epoch", row.getLong("epoch"))
          .put("kind", row.getString("target_kind"))
          .put("acquired_at", row.getOffsetDateTime("acquired_at").toInstant().toString());
    });
  }

  private Future<Void> renew() {
    if (left) {
      return Future.succeededFuture();
    }
    long sentAt = System.nanoTime();
    return pool.preparedQuery(RENEW).execute(Tuple.of(nodeId, httpUrl, ttl.toMillis()))
        .onSuccess(rows -> {
          if (!valid()) {
            generation++; // held again after a gap: what was claimed before may be another node's now
          }
          validUntilNanos = sentAt + ttl.toNanos();
          if (!wasValid) {
            wasValid = true;
            log.info("node {} holds its lease in PostgreSQL (it may send)", nodeId);
          }
          if (++renewals % 10_000 == 0) {
            pool.query(FORGET_DEAD).execute();
          }
        })
        .compose(v -> validNodes().onSuccess(ownership::leasesValid))
        .onFailure(err -> {
          if (wasValid && !valid()) {
            wasValid = false;
            log.warn("node {} lost its lease: PostgreSQL did not answer its renewals for {} ms; it sends nothing until it does ({})",
                nodeId, ttl.toMillis(), err.getMessage());
          }
        })
        .mapEmpty();
  }

  /**
   * Gives everything back at once, for a node that stops: the targets it holds, the leases of rows it
   * claimed and did not send, and its lease. Call once nothing is in flight.
   */
  public Future<Void> leave() {
    left = true;
    vertx.cancelTimer(timer);
    validUntilNanos = System.nanoTime();
    return pool.preparedQuery(LEAVE).execute(Tuple.of(nodeId)).mapEmpty();
  }

  /** The nodes whose lease is valid now, by PostgreSQL's clock. */
  public Future<java.util.Set<String>> validNodes() {
    return pool.query(VALID).execute().map(rows -> {
      java.util.Set<String> ids = new java.util.HashSet<>();
      rows.forEach(row -> ids.add(row.getString(0)));
      return ids;
    });
  }

  /** The nodes PostgreSQL knows of (live or dead within the hour), oldest first. */
  public Future<JsonArray> nodes() {
    return pool.query(NODES).execute().map(rows -> {
      JsonArray nodes = new JsonArray();
      for (Row row : rows) {
        nodes.add(new JsonObject()
            .put("node_id", row.getString("node_id"))
            .put("http_url", row.getString("http_url"))
            .put("started_at", row.getOffsetDateTime("started_at").toInstant().toString())
            .put("renewed_at", row.getOffsetDateTime("renewed_at").toInstant().toString())
            .put("lease_expires_at", row.getOffsetDateTime("expires_at").toInstant().toString())
            .put("lease_valid", row.getBoolean("live"))
            .put("targets_held", row.getLong("targets_held")));
      }
      return nodes;
    });
  }
}
