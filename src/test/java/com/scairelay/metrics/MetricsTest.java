package com.scairelay.metrics;

import com.scairelay.support.PrometheusText;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /metrics} of a real node after real traffic: signed inbound webhooks, deliveries to a
 * loopback endpoint, a WebSocket stream. Each test reads the counters before and after its own traffic
 * (the tests share the node) and leaves nothing pending behind it (its bridges are deleted).
 */
class MetricsTest {
  static TestNode node;
  static TestSink sink;
  static final AtomicInteger paths = new AtomicInteger();
  final List<String> bridges = new ArrayList<>();

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of(
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50",
        "RELAY_METRICS_OUTBOX_INTERVAL_MS", "100",
        "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "2",
        "RELAY_DELIVERIES_BREAKER_RESET_MS", "1500",
        "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "2000",
        "RELAY_HTTP_MAX_BODY_BYTES", "4096"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  @org.junit.jupiter.api.AfterEach
  void deleteBridges() {
    bridges.forEach(id -> node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + id), null));
    bridges.clear();
  }

  static PrometheusText scrape() {
    HttpResponse<Buffer> response = node.send(node.request(HttpMethod.GET, "/metrics"), null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    return PrometheusText.parse(response.bodyAsString());
  }

  private static double inbound(PrometheusText metrics, String transport, String outcome) {
    return metrics.value("relay_inbound_requests_total", Map.of("transport", transport, "outcome", outcome));
  }

  @Test
  void inboundRequestsAreCountedByTransportAndOutcomeAndBatchesAreMeasured() {
    JsonObject bridge = inboundBridge("inbound metrics");
    String id = bridge.getString("bridge_id");
    String secret = bridge.getString("shared_secret");
    PrometheusText before = scrape();

    assertThat(post(bridge, "m-1")).isEqualTo(202);
    assertThat(post(bridge, "m-1")).isEqualTo(200);
    assertThat(node.postInbound(id, "srb_not_the_secret", TestNode.message("m-2", "U1", "forged")).await().statusCode()).isEqualTo(401);
    assertThat(node.postInbound("brg_nope", secret, TestNode.message("m-3", "U1", "lost")).await().statusCode()).isEqualTo(404);
    JsonObject huge = TestNode.message("m-4", "U1", "x".repeat(5_000));
    assertThat(node.postInbound(id, secret, huge).await().statusCode()).isEqualTo(413);
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + id + "/pause"), null);
    assertThat(node.postInbound(id, secret, TestNode.message("m-5", "U1", "later")).await().statusCode()).isEqualTo(503);

    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
      PrometheusText after = scrape();
      assertThat(inbound(after, "custom", "accepted") - inbound(before, "custom", "accepted")).isEqualTo(1);
      assertThat(inbound(after, "custom", "duplicate") - inbound(before, "custom", "duplicate")).isEqualTo(1);
      assertThat(inbound(after, "custom", "unauthorized") - inbound(before, "custom", "unauthorized")).isEqualTo(1);
      assertThat(inbound(after, "custom", "unavailable") - inbound(before, "custom", "unavailable")).isEqualTo(1);
      assertThat(inbound(after, "none", "rejected") - inbound(before, "none", "rejected"))
          .as("the unknown bridge, and the body refused before its bridge was looked up").isEqualTo(2);
      assertThat(after.sum("relay_inbound_requests_total", Map.of()) - before.sum("relay_inbound_requests_total", Map.of())).isEqualTo(6);

      // The new event and the duplicate were each one batch of one.
      assertThat(after.value("relay_eventlog_batch_size_count", Map.of()) - before.value("relay_eventlog_batch_size_count", Map.of())).isEqualTo(2);
      assertThat(after.value("relay_eventlog_batch_size_sum", Map.of()) - before.value("relay_eventlog_batch_size_sum", Map.of())).isEqualTo(2);
      assertThat(after.value("relay_eventlog_batch_size_bucket", Map.of("le", "1.0"))
          - before.value("relay_eventlog_batch_size_bucket", Map.of("le", "1.0"))).isEqualTo(2);
      assertThat(after.value("relay_eventlog_commit_seconds_count", Map.of()) - before.value("relay_eventlog_commit_seconds_count", Map.of()))
          .isEqualTo(2);
      assertThat(after.value("relay_eventlog_commit_seconds_sum", Map.of())).isGreaterThan(before.value("relay_eventlog_commit_seconds_sum", Map.of()));
      assertThat(after.value("relay_eventlog_batches_failed_total", Map.of())).isEqualTo(before.value("relay_eventlog_batches_failed_total", Map.of()));
    });
  }

  /** An inbound bridge into a new room (its {@code room_id} added), deleted after the test. */
  private JsonObject inboundBridge(String roomName) {
    String roomId = node.createRoom(roomName).getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound").put("room_id", roomId);
    bridges.add(bridge.getString("bridge_id"));
    return bridge;
  }

  /** Posts a signed message to {@code bridge}'s inbound endpoint; answers the status. */
  private static int post(JsonObject bridge, String eventId) {
    return node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message(eventId, "U1", "x")).await()
        .statusCode();
  }

  /** An outbound bridge of {@code roomId} to the sink's {@code path}, deleted after the test. */
  private String outbound(String roomId, String path) {
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId)
        .put("name", "metrics " + path).put("outbound_webhook", sink.url(path));
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String id = created.bodyAsJsonObject().getString("bridge_id");
    bridges.add(id);
    return id;
  }

  private static String path(String name) {
    return "/" + name + "-" + paths.incrementAndGet();
  }

  private static double attempts(PrometheusText metrics, String outcome) {
    return attemptMeter(metrics, "relay_delivery_attempts_total", Map.of("outcome", outcome));
  }

  /** The sum of a bridge/custom attempt meter's samples with {@code labels}; 0 before the first attempt registered it. */
  private static double attemptMeter(PrometheusText metrics, String sample, Map<String, String> labels) {
    Map<String, String> all = new java.util.HashMap<>(labels);
    all.put("kind", "bridge");
    all.put("transport", "custom");
    return metrics.matching(sample, all).stream().mapToDouble(PrometheusText.Sample::value).sum();
  }

  @Test
  void deliveriesAreCountedByOutcomeAndTheirLatencyIsAHistogram() {
    JsonObject source = inboundBridge("delivery metrics");
    String roomId = source.getString("room_id");
    String ok = path("ok");
    String gone = path("gone");
    String busy = path("busy");
    String slow = path("slow");
    sink.answer(gone, r -> Answer.status(404));
    sink.answer(busy, r -> Answer.status(503));
    sink.answer(slow, r -> Answer.status(429, Map.of("Retry-After", "120")));
    for (String path : List.of(ok, gone, busy, slow)) {
      outbound(roomId, path);
    }
    // The attempt meters of bridge/custom exist once a first attempt was made (another test may have made it).
    PrometheusText before = scrape();

    post(source, "d-1");
    await().atMost(10, TimeUnit.SECONDS).until(() -> List.of(ok, gone, busy, slow).stream().allMatch(p -> sink.received(p).size() == 1));
    node.awaitDeliveriesQuiet();

    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
      PrometheusText after = scrape();
      double[] deltas = java.util.stream.Stream.of("delivered", "permanent", "transient", "rate_limited")
          .mapToDouble(outcome -> attempts(after, outcome) - attempts(before, outcome)).toArray();
      assertThat(deltas).as("delivered, permanent, transient, rate_limited").containsExactly(1, 1, 1, 1);
      double count = attemptMeter(after, "relay_delivery_attempt_seconds_count", Map.of())
          - attemptMeter(before, "relay_delivery_attempt_seconds_count", Map.of());
      assertThat(count).isEqualTo(4);
      assertThat(attemptMeter(after, "relay_delivery_attempt_seconds_bucket", Map.of("le", "+Inf")))
          .isEqualTo(attemptMeter(after, "relay_delivery_attempt_seconds_count", Map.of()));
      assertThat(attemptMeter(after, "relay_delivery_attempt_seconds_bucket", Map.of("le", "10.0")))
          .as("every loopback answer well within 10 s").isEqualTo(attemptMeter(after, "relay_delivery_attempt_seconds_count", Map.of()));
      assertThat(after.type("relay_delivery_attempt_seconds")).isEqualTo("histogram");
    });
  }

  private static double outbox(PrometheusText metrics, String sample) {
    List<PrometheusText.Sample> found = metrics.matching(sample, Map.of("kind", "bridge", "transport", "custom"));
    return found.isEmpty() ? 0 : found.get(0).value();
  }

  @Test
  void outboxGaugesShowThePendingDeliveriesAndHowLongTheOldestWaited() {
    String roomId = node.createRoom("outbox metrics").getString("room_id");
    String held = path("held");
    String bridgeId = outbound(roomId, held);
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/pause"), null);
    double depthBefore = outbox(scrape(), "relay_outbox_depth");

    for (int i = 0; i < 3; i++) {
      JsonObject event = new JsonObject().put("sender", "@nat:example.org")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "queued " + i));
      assertThat(node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), event).statusCode()).isEqualTo(201);
    }
    await().atMost(5, TimeUnit.SECONDS).until(() -> outbox(scrape(), "relay_outbox_depth") == depthBefore + 3);

    node.clock.advance(Duration.ofSeconds(90));
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() ->
        assertThat(outbox(scrape(), "relay_outbox_oldest_age_seconds")).isBetween(90.0, 120.0));

    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/resume"), null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(held).size() == 3);
    await().atMost(5, TimeUnit.SECONDS).until(() -> outbox(scrape(), "relay_outbox_depth") == depthBefore);
  }

  private static double breakers(PrometheusText metrics, String state) {
    return metrics.value("relay_delivery_breakers", Map.of("state", state));
  }

  @Test
  void breakerGaugesCountTargetsByTheStateOfTheirBreaker() {
    JsonObject source = inboundBridge("breaker metrics");
    String roomId = source.getString("room_id");
    String flaky = path("flaky");
    // Two failures open the breaker; its probe hangs until the response timeout (half-open meanwhile); then 200.
    sink.answer(flaky, r -> r.index() < 2 ? Answer.status(503) : r.index() == 2 ? Answer.never() : Answer.status(200));
    outbound(roomId, flaky);
    PrometheusText before = scrape();

    post(source, "b-1");
    await().atMost(10, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
      if (sink.received(flaky).size() >= 2) {
        return true;
      }
      node.clock.advance(Duration.ofSeconds(5)); // the retry is due on the node's clock
      return false;
    });
    await().atMost(5, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> breakers(scrape(), "open") == breakers(before, "open") + 1);

    node.clock.advance(Duration.ofMinutes(5)); // due again by the time the breaker lets a probe through
    await().atMost(5, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> breakers(scrape(), "half_open") == breakers(before, "half_open") + 1);
    assertThat(sink.received(flaky)).as("the probe, unanswered").hasSize(3);

    await().atMost(20, TimeUnit.SECONDS).pollInterval(200, TimeUnit.MILLISECONDS).until(() -> {
      if (sink.delivered(flaky).size() == 1) {
        return true;
      }
      node.clock.advance(Duration.ofMinutes(5));
      return false;
    });
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
      PrometheusText after = scrape();
      assertThat(breakers(after, "open")).isEqualTo(breakers(before, "open"));
      assertThat(breakers(after, "half_open")).isEqualTo(breakers(before, "half_open"));
    });
  }

  @Test
  void openWebSocketsAreCounted() {
    String roomId = node.createRoom("stream metrics").getString("room_id");
    double before = scrape().value("relay_websockets_open", Map.of());
    WebSocketClient client = node.vertx.createWebSocketClient();
    try {
      WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port())
          .setURI("/v1/rooms/" + roomId + "/stream").addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
      await().atMost(5, TimeUnit.SECONDS).until(() -> scrape().value("relay_websockets_open", Map.of()) == before + 1);
      socket.close().await();
      await().atMost(5, TimeUnit.SECONDS).until(() -> scrape().value("relay_websockets_open", Map.of()) == before);
    } finally {
      client.close().await();
    }
  }

  @Test
  void eventLoopDelayPoolsAndTheJvmAreMeasured() {
    PrometheusText first = scrape();
    int loops = new io.vertx.core.VertxOptions().getEventLoopPoolSize();
    assertThat(first.matching("relay_event_loop_delay_seconds_count", Map.of()).stream().map(s -> s.labels().get("loop")).distinct())
        .as("one probe per event loop").hasSize(loops);
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
      PrometheusText later = scrape();
      for (int loop = 0; loop < loops; loop++) {
        Map<String, String> labels = Map.of("loop", Integer.toString(loop));
        assertThat(later.value("relay_event_loop_delay_seconds_count", labels))
            .as("loop " + loop + " probed again").isGreaterThan(first.value("relay_event_loop_delay_seconds_count", labels));
      }
    });

    PrometheusText metrics = scrape();
    for (String pool : List.of("relay-durable", "relay-leases")) {
      Map<String, String> labels = Map.of("pool_type", "sql", "pool_name", pool);
      assertThat(metrics.value("vertx_pool_in_use", labels)).isGreaterThanOrEqualTo(0);
      assertThat(metrics.value("vertx_pool_queue_pending", labels)).isGreaterThanOrEqualTo(0);
      assertThat(metrics.value("vertx_pool_completed_total", labels)).as(pool + " was used").isGreaterThan(0);
    }
    assertThat(metrics.sum("jvm_memory_used_bytes", Map.of("area", "heap"))).isGreaterThan(0);
    assertThat(metrics.value("jvm_threads_live_threads", Map.of())).isGreaterThan(0);
    assertThat(metrics.value("process_uptime_seconds", Map.of())).isGreaterThan(0);
    assertThat(metrics.value("system_cpu_count", Map.of())).isGreaterThan(0);
    assertThat(metrics.sum("vertx_http_server_requests_total", Map.of("method", "GET"))).isGreaterThan(0);
  }

  @Test
  void noMeterCarriesAnIdOrAForeignHost() {
    JsonObject source = inboundBridge("cardinality");
    String roomId = source.getString("room_id");
    String ok = path("ok");
    outbound(roomId, ok);
    post(source, "c-1");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(ok).size() == 1);

    PrometheusText metrics = scrape();
    for (PrometheusText.Sample sample : metrics.samples()) {
      for (String value : sample.labels().values()) {
        assertThat(value).as(sample.toString()).doesNotContain(roomId).doesNotContain(source.getString("bridge_id"))
            .doesNotMatch("(app|brg|ev|evt|key|node|pt|room|tok|whk)_[0-9a-zA-Z]{6,}.*").doesNotMatch(".*:[0-9]{2,5}");
      }
    }
    assertThat(metrics.matching("vertx_pool_in_use", Map.of("pool_type", "http", "pool_name", "outbound")))
        .as("the outbound HTTP pools, added up").hasSize(1);
  }
}
