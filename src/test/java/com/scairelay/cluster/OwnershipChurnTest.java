package com.scairelay.cluster;

import com.scairelay.support.MutableClock;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Ownership under churn: 1,000 targets (100 rooms, 10 outbound bridges each) receive traffic while
 * nodes join and leave. Every target gets every event of its room exactly once, in room order, and
 * no target ever has two attempts open at once (its {@code max_in_flight} is 1), so no two nodes
 * sent for one target at the same time.
 */
class OwnershipChurnTest {
  private static final int ROOMS = 100;
  private static final int BRIDGES_PER_ROOM = 10;
  private static final int EVENTS_PER_PHASE = 2;

  private final Vertx client = Vertx.vertx();
  private final TestSink sink = TestSink.start(client);
  private final List<TestNode> running = new ArrayList<>();

  @AfterEach
  void stop() {
    running.forEach(TestNode::close);
    sink.close();
    client.close().await();
  }

  @Test
  void everyTargetGetsEveryEventOnceInOrderWhileNodesJoinAndLeave() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    MutableClock clock = MutableClock.startingNow();
    List<Integer> ports = IntStream.range(0, 4).mapToObj(i -> TestNode.freePort()).toList();
    TestNode n1 = join(pg, ports, 0, clock);
    TestNode n2 = join(pg, ports, 1, clock);

    List<String> rooms = new ArrayList<>();
    Map<String, String> roomOfPath = new HashMap<>();
    for (int r = 0; r < ROOMS; r++) {
      String roomId = n1.createRoom("churn " + r).getString("room_id");
      rooms.add(roomId);
      List<Future<HttpResponse<Buffer>>> bridges = new ArrayList<>();
      for (int t = 0; t < BRIDGES_PER_ROOM; t++) {
        String path = "/r" + r + "/t" + t;
        roomOfPath.put(path, roomId);
        sink.answer(path, x -> Answer.delayed(200, 50));
        bridges.add(n1.admin(HttpMethod.POST, "/v1/admin/bridges").sendJsonObject(new JsonObject().put("transport", "custom")
            .put("direction", "outbound").put("room_id", roomId).put("name", "t" + t).put("outbound_webhook", sink.url(path))));
      }
      Future.all(bridges).await();
      bridges.forEach(f -> assertThat(f.result().statusCode()).isEqualTo(201));
    }

    // Each phase posts while the members change: a node joins or leaves as the deliveries flow.
    Future<Void> traffic = post(List.of(n1, n2), rooms, 0);
    TestNode n3 = join(pg, ports, 2, clock);
    traffic.await();
    traffic = post(List.of(n2, n3), rooms, 1);
    leave(n1);
    traffic.await();
    traffic = post(List.of(n2, n3), rooms, 2);
    TestNode n4 = join(pg, ports, 3, clock);
    traffic.await();
    traffic = post(List.of(n3, n4), rooms, 3);
    leave(n2);
    traffic.await();
    post(List.of(n3, n4), rooms, 4).await();

    Map<String, List<String>> expected = new HashMap<>();
    for (String roomId : rooms) {
      expected.put(roomId, n3.sql("SELECT id FROM events WHERE room_id = $1 ORDER BY seq", roomId).stream().map(row -> row.getString(0)).toList());
      assertThat(expected.get(roomId)).hasSize(5 * EVENTS_PER_PHASE);
    }
    await().atMost(60, TimeUnit.SECONDS).pollInterval(200, TimeUnit.MILLISECONDS).until(() -> roomOfPath.entrySet().stream()
        .allMatch(e -> sink.delivered(e.getKey()).size() >= expected.get(e.getValue()).size()));
    n3.awaitDeliveriesQuiet();
    n4.awaitDeliveriesQuiet();
    roomOfPath.forEach((path, roomId) -> {
      assertThat(sink.delivered(path)).as("what %s received", path).isEqualTo(expected.get(roomId));
      assertThat(sink.mostInFlight(path)).as("attempts open at once for %s", path).isEqualTo(1);
    });
    assertThat(n3.queryValue("SELECT count(DISTINCT node_id) FROM target_owners")).isIn(1L, 2L);
    assertThat(n3.queryValue("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")).isEqualTo(0L);
  }

  private TestNode join(PgConnectOptions pg, List<Integer> ports, int index, MutableClock clock) {
    TestNode node = TestNode.startInCluster(pg, ports.get(index), ports, clock, Map.of("RELAY_HTTP_INSTANCES", "1"));
    running.add(node);
    return node;
  }

  private void leave(TestNode node) {
    running.remove(node);
    node.close();
  }

  /** Posts {@link #EVENTS_PER_PHASE} events to every room, one room after another per node, spread over {@code via}. */
  private Future<Void> post(List<TestNode> via, List<String> rooms, int phase) {
    List<Future<?>> posts = new ArrayList<>();
    for (int i = 0; i < rooms.size(); i++) {
      TestNode node = via.get(i % via.size());
      String roomId = rooms.get(i);
      Future<?> chain = Future.succeededFuture();
      for (int e = 0; e < EVENTS_PER_PHASE; e++) {
        JsonObject body = new JsonObject().put("sender", "@churn:example.org").put("display_name", "Churn")
            .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "phase " + phase + " #" + e));
        chain = chain.compose(v -> node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events").sendJsonObject(body)
            .map(response -> {
              assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
              return null;
            }));
      }
      posts.add(chain);
    }
    return Future.all(posts).mapEmpty();
  }
}
