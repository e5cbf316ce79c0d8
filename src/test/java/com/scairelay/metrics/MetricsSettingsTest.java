package com.scairelay.metrics;

import com.scairelay.support.PrometheusText;
import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code metrics.enabled} and {@code metrics.token}. */
class MetricsSettingsTest {

  @Test
  void aNodeWithMetricsDisabledHasNoEndpointAndItsVertxCollectsNothing() {
    try (TestNode node = TestNode.start(Map.of("RELAY_METRICS_ENABLED", "false"))) {
      assertThat(node.vertx.isMetricsEnabled()).isFalse();
      String roomId = node.createRoom("no metrics").getString("room_id");
      var bridge = node.createBridge(roomId, "inbound");
      assertThat(node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("n-1", "U1", "x"))
          .await().statusCode()).as("the node works without its meters").isEqualTo(202);
      assertThat(node.send(node.request(HttpMethod.GET, "/metrics"), null).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aMetricsTokenIsRequiredOnceSet() {
    String token = "scrape-token-0123456789";
    try (TestNode node = TestNode.start(Map.of("RELAY_METRICS_TOKEN", token))) {
      assertThat(node.vertx.isMetricsEnabled()).isTrue();
      assertThat(node.send(node.request(HttpMethod.GET, "/metrics"), null).statusCode()).isEqualTo(401);
      assertThat(node.send(node.admin(HttpMethod.GET, "/metrics"), null).statusCode()).as("the admin token is not the metrics token")
          .isEqualTo(401);
      assertThat(node.send(node.request(HttpMethod.GET, "/metrics").putHeader("Authorization", "Bearer " + token + "x"), null).statusCode())
          .isEqualTo(401);

      HttpResponse<Buffer> scraped = node.send(node.request(HttpMethod.GET, "/metrics").putHeader("Authorization", "Bearer " + token), null);
      assertThat(scraped.statusCode()).isEqualTo(200);
      assertThat(PrometheusText.parse(scraped.bodyAsString()).names()).contains("relay_inbound_requests_total", "jvm_memory_used_bytes");
    }
  }
}
