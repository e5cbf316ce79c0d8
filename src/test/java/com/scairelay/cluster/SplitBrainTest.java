package com.scairelay.cluster;

import com.scairelay.support.MutableClock;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A split that never heals: two nodes on one PostgreSQL that cannot see each other, so each believes it
 * owns every target. The fence in PostgreSQL still lets one of them at a time send for a target:
 * every target gets every message once, in order, with one attempt open at most.
 */
class SplitBrainTest {
  @Test
  void twoNodesThatEachThinkTheyOwnEverythingNeverSendForOneTargetTogether() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    MutableClock clock = MutableClock.startingNow();
    int portX = TestNode.freePort();
    int portY = TestNode.freePort();
    Vertx client = Vertx.vertx();
    TestSink sink = TestSink.start(client);
    try (TestNode x = TestNode.startInCluster(pg, portX, List.of(portX), clock, Map.of("RELAY_CLUSTER_NAME", "left"));
         TestNode y = TestNode.startInCluster(pg, portY, List.of(portY), clock, Map.of("RELAY_CLUSTER_NAME", "right"))) {
      String roomId = x.createRoom("split").getString("room_id");
      JsonObject inbound = x.createBridge(roomId, "inbound");
      List<String> paths = new ArrayList<>();
      for (int t = 0; t < 20; t++) {
        String path = "/split/" + t;
        paths.add(path);
        sink.answer(path, r -> Answer.delayed(200, 5));
        assertThat(x.send(x.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject().put("transport", "custom").put("direction", "outbound")
            .put("room_id", roomId).put("name", "t" + t).put("outbound_webhook", sink.url(path))).statusCode()).isEqualTo(201);
      }
      for (int i = 0; i < 30; i++) {
        TestNode via = i % 2 == 0 ? x : y;
        assertThat(via.postInbound(inbound.getString("bridge_id"), inbound.getString("shared_secret"),
            TestNode.message("s-" + i, "U1", "split " + i)).await().statusCode()).isEqualTo(202);
      }
      List<String> events = x.sql("SELECT id FROM events WHERE room_id = $1 ORDER BY seq", roomId).stream().map(row -> row.getString(0)).toList();
      await().atMost(30, TimeUnit.SECONDS).until(() -> paths.stream().allMatch(p -> sink.delivered(p).size() >= events.size()));
      x.awaitDeliveriesQuiet();
      y.awaitDeliveriesQuiet();
      for (String path : paths) {
        assertThat(sink.delivered(path)).as(path).isEqualTo(events);
        assertThat(sink.mostInFlight(path)).as(path).isEqualTo(1);
      }
    } finally {
      sink.close();
      client.close().await();
    }
  }
}
