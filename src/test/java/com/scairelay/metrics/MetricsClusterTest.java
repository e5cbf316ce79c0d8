package com.scairelay.metrics;

import com.scairelay.support.MutableClock;
import com.scairelay.support.PrometheusText;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Two clustered nodes in one JVM: each has its own registry and counts only what it handled itself. */
class MetricsClusterTest {

  private static PrometheusText scrape(TestNode node) {
    var response = node.send(node.request(HttpMethod.GET, "/metrics"), null);
    assertThat(response.statusCode()).isEqualTo(200);
    return PrometheusText.parse(response.bodyAsString());
  }

  private static double accepted(PrometheusText metrics) {
    return metrics.value("relay_inbound_requests_total", Map.of("transport", "custom", "outcome", "accepted"));
  }

  @Test
  void eachClusteredNodeCountsWhatItHandled() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    MutableClock clock = MutableClock.startingNow();
    List<Integer> ports = List.of(TestNode.freePort(), TestNode.freePort());
    try (TestNode a = TestNode.startInCluster(pg, ports.get(0), ports, clock, Map.of());
         TestNode b = TestNode.startInCluster(pg, ports.get(1), ports, clock, Map.of())) {
      assertThat(a.vertx.isMetricsEnabled()).isTrue();
      assertThat(b.vertx.isMetricsEnabled()).isTrue();
      String roomId = a.createRoom("cluster metrics").getString("room_id");
      JsonObject bridge = a.createBridge(roomId, "inbound");

      for (int i = 0; i < 3; i++) {
        assertThat(a.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("a-" + i, "U1", "x"))
            .await().statusCode()).isEqualTo(202);
      }
      assertThat(b.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("b-0", "U1", "x"))
          .await().statusCode()).isEqualTo(202);

      await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
        assertThat(accepted(scrape(a))).isEqualTo(3);
        assertThat(accepted(scrape(b))).isEqualTo(1);
        // Vert.x's own meters too: each node's Vert.x reports to that node's registry.
        assertThat(scrape(a).sum("vertx_http_server_requests_total", Map.of("code", "202"))).isEqualTo(3);
        assertThat(scrape(b).sum("vertx_http_server_requests_total", Map.of("code", "202"))).isEqualTo(1);
      });
      // Room events go to every node's streams over the clustered event bus.
      await().atMost(5, TimeUnit.SECONDS).untilAsserted(() ->
          assertThat(scrape(b).sum("vertx_eventbus_received_total", Map.of("side", "remote"))).isGreaterThan(0));
    }
  }
}
