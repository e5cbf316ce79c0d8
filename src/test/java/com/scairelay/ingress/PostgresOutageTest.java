package com.scairelay.ingress;

import com.scairelay.support.PgProxy;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * PostgreSQL going quiet or away, through a real TCP proxy: every request is answered 503 with
 * {@code Retry-After} within about a second, readiness says DOWN without naming the host, and the
 * node recovers by itself when PostgreSQL returns, with nothing acknowledged lost (issue 11, defect 5).
 */
class PostgresOutageTest {
  static Vertx proxyVertx;
  static PgProxy proxy;
  static TestNode node;
  static String bridgeId;
  static String secret;
  static String roomId;

  @BeforeAll
  static void start() {
    proxyVertx = Vertx.vertx();
    proxy = new PgProxy(proxyVertx, TestPostgres.freshDatabase());
    node = TestNode.startOn(proxy.options(), Map.of("RELAY_HTTP_REQUEST_TIMEOUT_MS", "1000", "RELAY_PG_TIMEOUT_MS", "500"));
    roomId = node.createRoom("outage").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    bridgeId = bridge.getString("bridge_id");
    secret = bridge.getString("shared_secret");
  }

  @AfterAll
  static void stop() {
    proxy.resume();
    proxy.restore();
    node.close();
    proxy.close();
    proxyVertx.close().await();
  }

  private static HttpResponse<Buffer> post(String eventId) throws Exception {
    return node.postInbound(bridgeId, secret, TestNode.message(eventId, "U1", eventId)).await(5, TimeUnit.SECONDS);
  }

  private static void assertUnavailableWithin(long millis, HttpResponse<Buffer> response, long startedNanos) {
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos)).as("answered within").isLessThan(millis);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(503);
    assertThat(response.getHeader("Retry-After")).isEqualTo("1");
    assertThat(response.bodyAsString()).doesNotContain("127.0.0.1", "Exception");
  }

  @Test
  void aStalledPostgresIsA503WithinASecondAndTheNodeRecoversWithNothingLost() throws Exception {
    assertThat(post("s-1").statusCode()).isEqualTo(202);
    proxy.stall();
    try {
      long started = System.nanoTime();
      assertUnavailableWithin(2_500, post("s-2"), started);
      started = System.nanoTime();
      assertUnavailableWithin(2_500, node.admin(HttpMethod.GET, "/v1/admin/audit").send().await(5, TimeUnit.SECONDS), started);
      started = System.nanoTime();
      HttpResponse<Buffer> ready = node.request(HttpMethod.GET, "/health/ready").send().await(5, TimeUnit.SECONDS);
      assertUnavailableWithin(3_000, ready, started);
    } finally {
      proxy.resume();
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> post("s-3").statusCode() / 100 == 2);
    // The sender retries what it was told to: stored once, whether its stalled batch committed or not.
    assertThat(post("s-2").statusCode()).isIn(200, 202);
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1 AND external_id IN ('s-1', 's-2', 's-3')", roomId))
        .isEqualTo(3L);
  }

  @Test
  void aPostgresThatIsGoneIsA503AndTheNodeRecoversWithoutARestart() throws Exception {
    assertThat(post("c-1").statusCode()).isEqualTo(202);
    proxy.cut();
    try {
      long started = System.nanoTime();
      assertUnavailableWithin(2_500, post("c-2"), started);
      started = System.nanoTime();
      assertUnavailableWithin(2_500, node.admin(HttpMethod.GET, "/v1/admin/bridges").send().await(5, TimeUnit.SECONDS), started);
    } finally {
      proxy.restore();
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> post("c-3").statusCode() / 100 == 2);
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1 AND external_id IN ('c-1', 'c-3')", roomId)).isEqualTo(2L);
  }
}
