package com.scairelay.cluster;

import com.scairelay.support.MutableClock;
import com.scairelay.support.PgProxy;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member that loses PostgreSQL (but not the cluster) stops sending once its lease runs out, reports
 * not-ready, and the other member takes its targets over; when PostgreSQL is back it sends none of the
 * rows it had claimed before, and it gets its share of the targets back.
 */
class LostPostgresTest {
  @Test
  void theOtherMemberTakesOverTheTargetsOfAMemberThatLostPostgres() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    Vertx proxyVertx = Vertx.vertx();
    PgProxy proxy = new PgProxy(proxyVertx, pg);
    MutableClock clock = MutableClock.startingNow();
    int portX = TestNode.freePort();
    int portY = TestNode.freePort();
    List<Integer> ports = List.of(portX, portY);
    Map<String, String> env = Map.of("RELAY_CLUSTER_NODE_LEASE_MS", "600", "RELAY_PG_TIMEOUT_MS", "300", "RELAY_HTTP_REQUEST_TIMEOUT_MS", "500");
    TestSink sink = TestSink.start(proxyVertx);
    try (TestNode x = TestNode.startInCluster(proxy.options(), portX, ports, clock, env);
         TestNode y = TestNode.startInCluster(pg, portY, ports, clock, env)) {
      await().atMost(10, TimeUnit.SECONDS).until(() -> ClusterTest.sharing(x) == 2 && ClusterTest.sharing(y) == 2);
      String roomId = y.createRoom("lost").getString("room_id");
      JsonObject inbound = y.createBridge(roomId, "inbound");
      List<String> paths = new ArrayList<>();
      Set<String> ofX = new HashSet<>();
      Set<String> idsOfX = new HashSet<>();
      for (int t = 0; t < 8; t++) {
        String path = "/lost/" + t;
        paths.add(path);
        sink.answer(path, r -> Answer.delayed(200, 100));
        HttpResponse<Buffer> created = y.send(y.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject().put("transport", "custom")
            .put("direction", "outbound").put("room_id", roomId).put("name", "t" + t).put("outbound_webhook", sink.url(path)));
        String id = created.bodyAsJsonObject().getString("bridge_id");
        if (ClusterTest.cluster(y, "?target_id=" + id).getJsonObject("target").getString("owner").equals(x.node.nodeId())) {
          ofX.add(path);
          idsOfX.add(id);
        }
      }
      assertThat(ofX).as("rendezvous gives x some of 8 targets").isNotEmpty();
      for (int i = 0; i < 20; i++) {
        assertThat(y.postInbound(inbound.getString("bridge_id"), inbound.getString("shared_secret"),
            TestNode.message("l-" + i, "U1", "lost " + i)).await().statusCode()).isEqualTo(202);
      }
      await().atMost(10, TimeUnit.SECONDS).until(() -> ofX.stream().allMatch(p -> !sink.received(p).isEmpty()));

      proxy.cut();
      await().atMost(10, TimeUnit.SECONDS).until(() -> x.request(HttpMethod.GET, "/health/ready").send().await().statusCode() == 503);
      int sentByXBefore = ofX.stream().mapToInt(p -> sink.received(p).size()).sum();
      // y's sweeps see x's lease gone and take its targets over.
      await().atMost(20, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
        clock.advance(Duration.ofSeconds(1));
        return paths.stream().allMatch(p -> sink.delivered(p).size() >= 20);
      });
      assertThat(ofX.stream().mapToInt(p -> sink.received(p).size()).sum()).isGreaterThan(sentByXBefore);

      proxy.restore();
      await().atMost(10, TimeUnit.SECONDS).until(() -> x.request(HttpMethod.GET, "/health/ready").send().await().statusCode() == 200);
      await().atMost(10, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
        clock.advance(Duration.ofSeconds(1));
        return x.queryValue("SELECT count(*) FROM target_owners WHERE node_id = $1 AND target_id = ANY($2)", x.node.nodeId(),
            idsOfX.toArray(String[]::new)).equals((long) idsOfX.size());
      });
      x.awaitDeliveriesQuiet();
      y.awaitDeliveriesQuiet();
      List<String> events = y.sql("SELECT id FROM events WHERE room_id = $1 ORDER BY seq", roomId).stream().map(row -> row.getString(0)).toList();
      for (String path : paths) {
        List<String> got = sink.delivered(path);
        assertThat(List.copyOf(new java.util.LinkedHashSet<>(got))).as(path).isEqualTo(events);
        // Sent again at most: the attempt x had open when PostgreSQL went away and the one whose result it
        // was writing (x could not record their answers); x sends nothing more once a result fails to be written.
        assertThat(got.size()).as("%s: sent twice at most twice", path).isLessThanOrEqualTo(events.size() + 2);
      }
    } finally {
      sink.close();
      proxy.close();
      proxyVertx.close().await();
    }
  }
}
