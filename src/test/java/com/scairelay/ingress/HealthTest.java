package com.scairelay.ingress;

import com.scairelay.NodeSetup;
import com.scairelay.RelayNode;
import com.scairelay.config.RelayConfig;
import com.scairelay.support.MutableClock;
import com.scairelay.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class HealthTest {

  @Test
  void readyWhenPostgresAnswers() {
    try (TestNode node = TestNode.start()) {
      WebClient client = WebClient.create(node.vertx);
      assertThat(client.get(node.port(), "127.0.0.1", "/health/live").send().await().statusCode()).isEqualTo(200);
      HttpResponse<Buffer> ready = client.get(node.port(), "127.0.0.1", "/health/ready").send().await();
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.bodyAsJsonObject().getString("postgres")).isEqualTo("UP");
    }
  }

  @Test
  void liveButNotReadyWhenPostgresIsUnreachable() {
    Vertx vertx = Vertx.vertx();
    int port = TestNode.freePort();
    RelayConfig config = RelayConfig.load(Map.of("RELAY_HTTP_PORT", Integer.toString(port)));
    PgConnectOptions nowhere = new PgConnectOptions().setHost("127.0.0.1").setPort(TestNode.freePort())
        .setDatabase("none").setUser("none").setPassword("none");
    RelayNode node = RelayNode.start(vertx, new NodeSetup(config, nowhere, TestNode.ADMIN_TOKEN, TestNode.MASTER_KEY,
        MutableClock.startingNow())).await();
    try {
      WebClient client = WebClient.create(vertx);
      assertThat(client.get(port, "127.0.0.1", "/health/live").send().await().statusCode()).isEqualTo(200);
      HttpResponse<Buffer> ready = client.get(port, "127.0.0.1", "/health/ready").send().await();
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.getHeader("Content-Type")).isEqualTo("application/problem+json");
      assertThat(ready.bodyAsJsonObject().getString("detail")).contains("PostgreSQL");
    } finally {
      node.stop().await();
      vertx.close().await();
    }
  }
}
