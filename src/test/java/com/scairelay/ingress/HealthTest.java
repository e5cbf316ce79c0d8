package com.scairelay.ingress;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.PgProxy;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
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

  /** PostgreSQL goes away after start (a node cannot start without it: that is a start-up failure, exit 2). */
  @Test
  void liveButNotReadyWhenPostgresIsUnreachable() {
    Vertx proxyVertx = Vertx.vertx();
    PgProxy proxy = new PgProxy(proxyVertx, TestPostgres.freshDatabase());
    TestNode node = TestNode.startOn(proxy.options(), Map.of("RELAY_PG_TIMEOUT_MS", "500"));
    try {
      assertThat(node.send(node.request(HttpMethod.GET, "/health/ready"), null).statusCode()).isEqualTo(200);
      proxy.cut();

      assertThat(node.send(node.request(HttpMethod.GET, "/health/live"), null).statusCode()).isEqualTo(200);
      HttpResponse<Buffer> ready = node.send(node.request(HttpMethod.GET, "/health/ready"), null);
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.getHeader("Content-Type")).isEqualTo("application/problem+json");
      assertThat(ready.bodyAsJsonObject().getString("detail")).contains("PostgreSQL");
    } finally {
      proxy.restore();
      node.close();
      proxy.close();
      proxyVertx.close().await();
    }
  }

}
