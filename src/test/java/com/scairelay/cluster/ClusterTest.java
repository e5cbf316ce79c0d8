package com.scairelay.cluster;

import com.scairelay.support.MutableClock;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three clustered nodes (Hazelcast on 127.0.0.1, one PostgreSQL): any node takes any request, the
 * event bus carries streams, wake-ups and invalidations between them, and PostgreSQL keeps room order
 * and dedupe whatever node a request reached.
 */
class ClusterTest {
  static Vertx client;
  static TestSink sink;
  static TestNode a;
  static TestNode b;
  static TestNode c;

  @BeforeAll
  static void cluster() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    MutableClock clock = MutableClock.startingNow();
    List<Integer> ports = List.of(TestNode.freePort(), TestNode.freePort(), TestNode.freePort());
    a = TestNode.startInCluster(pg, ports.get(0), ports, clock, Map.of());
    b = TestNode.startInCluster(pg, ports.get(1), ports, clock, Map.of());
    c = TestNode.startInCluster(pg, ports.get(2), ports, clock, Map.of());
    client = Vertx.vertx();
    sink = TestSink.start(client);
    await().atMost(20, TimeUnit.SECONDS).until(() -> List.of(a, b, c).stream().allMatch(n -> sharing(n) == 3));
  }

  /** How many members this node shares the targets among (members holding a valid lease, as it sees them). */
  static long sharing(TestNode node) {
    return cluster(node, "").getJsonArray("members").stream().map(JsonObject.class::cast).filter(m -> m.getBoolean("owns_targets")).count();
  }

  @AfterAll
  static void stop() {
    for (TestNode node : List.of(c, b, a)) {
      if (node != null) {
        node.close();
      }
    }
    if (sink != null) {
      sink.close();
      client.close().await();
    }
  }

  static JsonObject cluster(TestNode node, String query) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/cluster" + query), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  static Set<String> members(TestNode node) {
    return cluster(node, "").getJsonArray("members").stream().map(JsonObject.class::cast)
        .map(m -> m.getString("node_id")).collect(Collectors.toSet());
  }

  @Test
  void everyNodeSeesTheSameMembersAndTheSameOwnerOfATarget() {
    Set<String> ids = Set.of(a.node.nodeId(), b.node.nodeId(), c.node.nodeId());
    for (TestNode node : List.of(a, b, c)) {
      assertThat(members(node)).isEqualTo(ids);
      HttpResponse<Buffer> ready = node.send(node.request(HttpMethod.GET, "/health/ready"), null);
      assertThat(ready.bodyAsJsonObject().getJsonObject("cluster").getInteger("members")).isEqualTo(3);
    }
    // Rendezvous hashing spreads targets over every member, and every node agrees on each owner.
    Set<String> owners = new java.util.HashSet<>();
    for (int i = 0; i < 30; i++) {
      String target = "brg_" + i;
      Set<String> seen = List.of(a, b, c).stream().map(n -> cluster(n, "?target_id=" + target).getJsonObject("target").getString("owner"))
          .collect(Collectors.toSet());
      assertThat(seen).hasSize(1);
      owners.addAll(seen);
    }
    assertThat(owners).isEqualTo(ids);
    JsonArray nodes = cluster(a, "").getJsonArray("nodes");
    assertThat(nodes.stream().map(JsonObject.class::cast).filter(n -> n.getBoolean("lease_valid")).map(n -> n.getString("node_id")))
        .containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void anEventPostedToBIsStreamedOnCAndDeliveredOnceByItsOwner() {
    String roomId = a.createRoom("across").getString("room_id");
    JsonObject inbound = a.createBridge(roomId, "inbound");
    String path = "/across";
    JsonObject outbound = bridge(a, roomId, sink.url(path));
    WebSocketClient ws = client.createWebSocketClient();
    List<String> streamed = new CopyOnWriteArrayList<>();
    WebSocket socket = ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(c.port())
        .setURI("/v1/rooms/" + roomId + "/stream").addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
    socket.textMessageHandler(streamed::add);

    HttpResponse<Buffer> accepted = b.postInbound(inbound.getString("bridge_id"), inbound.getString("shared_secret"),
        TestNode.message("x-1", "U1", "hello from B")).await();
    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    String eventId = accepted.bodyAsJsonObject().getString("event_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> streamed.stream().anyMatch(m -> m.contains(eventId)));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).equals(List.of(eventId)));
    JsonObject holder = cluster(c, "?target_id=" + outbound.getString("bridge_id")).getJsonObject("target");
    assertThat(holder.getJsonObject("holder").getString("node_id")).isEqualTo(holder.getString("owner"));
    socket.close().await();
    ws.close().await();
  }

  @Test
  void oneForeignEventIdPostedToTwoNodesAtOnceIsOneEvent() {
    String roomId = a.createRoom("dedupe").getString("room_id");
    JsonObject inbound = a.createBridge(roomId, "inbound");
    String bridgeId = inbound.getString("bridge_id");
    String secret = inbound.getString("shared_secret");
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      JsonObject body = TestNode.message("dup-" + i, "U1", "twice " + i);
      posts.add(a.postInbound(bridgeId, secret, body));
      posts.add(b.postInbound(bridgeId, secret, body));
    }
    Future.all(posts).await();
    for (int i = 0; i < posts.size(); i += 2) {
      HttpResponse<Buffer> first = posts.get(i).result();
      HttpResponse<Buffer> second = posts.get(i + 1).result();
      assertThat(List.of(first.statusCode(), second.statusCode())).allMatch(code -> code == 200 || code == 202);
      assertThat(first.bodyAsJsonObject().getString("event_id")).isEqualTo(second.bodyAsJsonObject().getString("event_id"));
    }
    assertThat(a.queryValue("SELECT count(*) FROM events WHERE room_id = $1", roomId)).isEqualTo(40L);
  }

  @Test
  void twoNodesWritingToOneRoomKeepCommitOrderAndTheOwnerDeliversInThatOrder() {
    String roomId = a.createRoom("order").getString("room_id");
    JsonObject inbound = a.createBridge(roomId, "inbound");
    String path = "/order";
    bridge(b, roomId, sink.url(path));
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      TestNode via = List.of(a, b, c).get(i % 3);
      posts.add(via.postInbound(inbound.getString("bridge_id"), inbound.getString("shared_secret"), TestNode.message("o-" + i, "U1", "n" + i)));
    }
    Future.all(posts).await();
    List<String> committed = a.sql("SELECT id FROM events WHERE room_id = $1 ORDER BY seq", roomId).stream()
        .map(row -> row.getString(0)).toList();
    assertThat(committed).hasSize(60);
    await().atMost(20, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 60);
    assertThat(sink.delivered(path)).isEqualTo(committed);
  }

  @Test
  void aTokenIssuedOnOneNodeIsValidOnEveryNodeAlsoAfterARotationOnAnother() {
    JsonObject app = application(a);
    String first = token(a, app);
    assertThat(status(c, first)).isEqualTo(200);
    HttpResponse<Buffer> rotated = b.send(b.admin(HttpMethod.POST, "/v1/admin/signing-keys/rotate"), null);
    assertThat(rotated.statusCode()).as(rotated.bodyAsString()).isIn(200, 201);
    String second = token(b, app);
    for (TestNode node : List.of(a, b, c)) {
      assertThat(status(node, second)).as("a token signed with the new key").isEqualTo(200);
      assertThat(status(node, first)).as("a token signed with the old key").isEqualTo(200);
    }
  }

  @Test
  void changesOnOneNodeTakeEffectOnEveryNodeAtOnce() {
    String roomId = a.createRoom("changes").getString("room_id");
    JsonObject inbound = a.createBridge(roomId, "inbound");
    String bridgeId = inbound.getString("bridge_id");
    String secret = inbound.getString("shared_secret");
    assertThat(b.postInbound(bridgeId, secret, TestNode.message("c-1", "U1", "warm")).await().statusCode()).isEqualTo(202);

    a.send(a.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/pause"), null);
    await().atMost(2, TimeUnit.SECONDS).until(() -> b.postInbound(bridgeId, secret, TestNode.message("c-2", "U1", "paused")).await().statusCode() == 503);

    c.send(c.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/resume"), null);
    await().atMost(2, TimeUnit.SECONDS).until(() -> b.postInbound(bridgeId, secret, TestNode.message("c-3", "U1", "resumed")).await().statusCode() == 202);

    JsonObject app = application(a);
    String token = token(a, app);
    assertThat(status(b, token)).isEqualTo(200);
    assertThat(a.send(a.admin(HttpMethod.DELETE, "/v1/admin/applications/" + app.getString("client_id")), null).statusCode()).isIn(200, 204);
    await().atMost(2, TimeUnit.SECONDS).until(() -> status(b, token) == 401 && status(c, token) == 401);
  }

  private static JsonObject bridge(TestNode node, String roomId, String url) {
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject()
        .put("transport", "custom").put("direction", "outbound").put("room_id", roomId).put("name", "out")
        .put("outbound_webhook", url));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  private static JsonObject application(TestNode node) {
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"), new JsonObject()
        .put("name", "cluster app").put("scopes", new JsonArray().add("rooms:read")).put("token_lifetime", 600));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  private static String token(TestNode node, JsonObject app) {
    String basic = Base64.getEncoder().encodeToString((app.getString("client_id") + ":" + app.getString("client_secret"))
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<Buffer> response = node.request(HttpMethod.POST, "/oauth/token")
        .putHeader("Content-Type", "application/x-www-form-urlencoded").putHeader("Authorization", "Basic " + basic)
        .sendBuffer(Buffer.buffer("grant_type=client_credentials")).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  /** How the node takes {@code token}: 200 when it is valid there (a read of a room that does not exist passes the guard, then 404). */
  private static int status(TestNode node, String token) {
    int code = node.request(HttpMethod.GET, "/v1/rooms/room_missing").putHeader("Authorization", "Bearer " + token).send().await().statusCode();
    return code == 404 ? 200 : code;
  }
}
