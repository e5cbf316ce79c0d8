package com.scairelay.support;

import com.scairelay.NodeSetup;
import com.scairelay.RelayNode;
import com.scairelay.cluster.ClusterNode;
import com.scairelay.metrics.NodeMetrics;
import com.scairelay.store.MasterKeys;
import io.vertx.core.VertxOptions;
import com.scairelay.transport.SignatureScheme;
import com.scairelay.config.RelayConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.pgclient.PgBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real node for a test class: its own migrated database on the shared test PostgreSQL, a free
 * loopback port, a {@link MutableClock}, and helpers that speak the HTTP contract.
 */
public final class TestNode implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";
  /** The master key of a node started without {@code RELAY_SECRETS_MASTER_KEY}. */
  public static final byte[] MASTER_KEY = new byte[32];
  /** {@code server.name} of test nodes, unless a test sets {@code RELAY_SERVER_NAME} ("" for this host's name). */
  public static final String SERVER_NAME = "relay.test";

  public final Vertx vertx;
  public final MutableClock clock;
  public final ClockScheduler scheduler;
  public final PgConnectOptions pg;
  public final RelayNode node;
  public final WebClient http;
  public final Pool sql;

  private TestNode(Vertx vertx, PgConnectOptions pg, RelayConfig config, MutableClock clock, Optional<ClusterNode> cluster,
                   NodeMetrics metrics) {
    this.vertx = vertx;
    this.pg = pg;
    this.clock = clock;
    this.scheduler = new ClockScheduler(clock);
    MasterKeys keys = config.masterKey().map(key -> new MasterKeys(key, config.previousMasterKeys())).orElseGet(() -> MasterKeys.of(MASTER_KEY));
    this.node = RelayNode.start(vertx, new NodeSetup(config, pg, ADMIN_TOKEN, keys, clock, (v, c) -> scheduler, cluster, metrics)).await();
    this.http = WebClient.create(vertx);
    this.sql = PgBuilder.pool().connectingTo(pg).using(vertx).build();
  }

  public static TestNode start() {
    return start(Map.of());
  }

  /** {@code env} overrides settings the way {@code RELAY_*} variables do. */
  public static TestNode start(Map<String, String> env) {
    return startOn(TestPostgres.freshDatabase(), env);
  }

  /** A node on an existing database: a restart of the node that used it. */
  public static TestNode startOn(PgConnectOptions pg, Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("RELAY_HTTP_PORT", Integer.toString(freePort()));
    all.putIfAbsent("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    all.putIfAbsent("RELAY_HTTP_INSTANCES", "2");
    all.putIfAbsent("RELAY_SERVER_NAME", SERVER_NAME);
    RelayConfig config = RelayConfig.load(all);
    NodeMetrics metrics = NodeMetrics.of(config.metrics());
    return new TestNode(metrics.vertx(new VertxOptions()).build(), pg, config, MutableClock.startingNow(), Optional.empty(), metrics);
  }

  /**
   * A node of a Hazelcast cluster on 127.0.0.1: {@code clusterPort} is its own, {@code members} every
   * member's port. Nodes of one test share a clock, as the machines of a cluster share the time.
   */
  public static TestNode startInCluster(PgConnectOptions pg, int clusterPort, List<Integer> members, MutableClock clock,
                                        Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("RELAY_HTTP_PORT", Integer.toString(freePort()));
    all.putIfAbsent("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    all.putIfAbsent("RELAY_HTTP_INSTANCES", "2");
    all.putIfAbsent("RELAY_SERVER_NAME", SERVER_NAME);
    all.put("RELAY_CLUSTER_ENABLED", "true");
    all.put("RELAY_CLUSTER_PORT", Integer.toString(clusterPort));
    all.put("RELAY_CLUSTER_MEMBERS", members.stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(",")));
    all.putIfAbsent("RELAY_CLUSTER_NAME", "test-" + members.get(0));
    all.putIfAbsent("RELAY_CLUSTER_FAILURE_TIMEOUT_SECONDS", "3");
    all.putIfAbsent("RELAY_CLUSTER_NODE_LEASE_MS", "2000");
    RelayConfig config = RelayConfig.load(all);
    NodeMetrics metrics = NodeMetrics.of(config.metrics());
    ClusterNode cluster = ClusterNode.join(config.cluster(), new VertxOptions(), metrics).await();
    return new TestNode(cluster.vertx(), pg, config, clock, Optional.of(cluster), metrics);
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return node.port();
  }

  public HttpRequest<Buffer> request(HttpMethod method, String path) {
    return http.request(method, port(), "127.0.0.1", path);
  }

  public HttpRequest<Buffer> admin(HttpMethod method, String path) {
    return request(method, path).putHeader("Authorization", "Bearer " + ADMIN_TOKEN);
  }

  public HttpResponse<Buffer> send(HttpRequest<Buffer> request, JsonObject body) {
    return (body == null ? request.send() : request.sendBuffer(body.toBuffer())).await();
  }

  public JsonObject createRoom(String name) {
    HttpResponse<Buffer> response = send(admin(HttpMethod.POST, "/v1/rooms"), new JsonObject().put("name", name));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  /** Creates a bridge of {@code direction} into {@code roomId}; the answer includes {@code shared_secret}. */
  public JsonObject createBridge(String roomId, String direction) {
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", direction)
        .put("room_id", roomId).put("name", "test bridge");
    if (!direction.equals("inbound")) {
      body.put("outbound_webhook", "http://127.0.0.1:9/hook");
    }
    HttpResponse<Buffer> response = send(admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  /** Posts {@code body} to the bridge's inbound endpoint signed with {@code secret} at the node's current time. */
  public Future<HttpResponse<Buffer>> postInbound(String bridgeId, String secret, JsonObject body) {
    Buffer raw = body.toBuffer();
    return postInboundRaw(bridgeId, raw, SignatureScheme.header(secret, clock.instant().getEpochSecond(), raw));
  }

  public Future<HttpResponse<Buffer>> postInboundRaw(String bridgeId, Buffer raw, String signatureHeader) {
    HttpRequest<Buffer> request = request(HttpMethod.POST, "/v1/bridges/" + bridgeId + "/inbound");
    if (signatureHeader != null) {
      request.putHeader(SignatureScheme.HEADER, signatureHeader);
    }
    return request.sendBuffer(raw);
  }

  public static JsonObject message(String eventId, String externalUser, String text) {
    return new JsonObject()
        .put("event_id", eventId)
        .put("sender", new JsonObject().put("external_id", externalUser).put("display_name", "User " + externalUser))
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", text));
  }

  /**
   * Waits until the node's delivery side is doing nothing (no claim, send or result write, no wake-up
   * or fired timer waiting): what has not happened by then cannot happen before the clock moves or a
   * new request arrives. Proves "nothing was sent" exactly, without a waiting window.
   */
  public void awaitDeliveriesQuiet() {
    await().atMost(10, TimeUnit.SECONDS).pollInterval(10, TimeUnit.MILLISECONDS)
        .until(() -> scheduler.idle() && node.deliveriesQuiet().await() && scheduler.idle());
  }

  /** A single value from the node's database. */
  public Object queryValue(String sql, Object... params) {
    var rows = sql(sql, params);
    return rows.iterator().hasNext() ? rows.iterator().next().getValue(0) : null;
  }

  public io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> sql(String sql, Object... params) {
    return this.sql.preparedQuery(sql).execute(io.vertx.sqlclient.Tuple.wrap(params)).await();
  }

  @Override
  public void close() {
    http.close();
    sql.close().await();
    node.stop().await();
    vertx.close().await();
  }
}
