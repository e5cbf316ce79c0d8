package com.scairelay.targets;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Outbound delivery through the custom transport to real endpoints on loopback, with the policy of
 * DESIGN.md §4 driven by the node's clock (the sweep runs every 50 ms, retries wait on the clock).
 */
class DeliveryTest {
  static TestNode node;
  static TestSink sink;
  static final AtomicInteger paths = new AtomicInteger();

  String roomId;
  JsonObject source;
  String path;
  String targetId;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of(
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50",
        "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "500",
        "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1000"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  @BeforeEach
  void room() {
    roomId = node.createRoom("delivery").getString("room_id");
    source = node.createBridge(roomId, "inbound");
    path = "/hook-" + paths.incrementAndGet();
    targetId = outboundBridge(sink.url(path), Map.of()).getString("bridge_id");
  }

  private JsonObject outboundBridge(String url, Map<String, Object> extra) {
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId)
        .put("name", "out").put("outbound_webhook", url);
    extra.forEach(body::put);
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private String inbound(String eventId, String text) {
    HttpResponse<Buffer> response = node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"),
        TestNode.message(eventId, "U1", text)).await();
    assertThat(response.statusCode()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("event_id");
  }

  private JsonArray deliveryLog(String bridgeId) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries"), null);
    assertThat(response.statusCode()).isEqualTo(200);
    return response.bodyAsJsonObject().getJsonArray("deliveries");
  }

  /** Moves the clock on by {@code step} at every poll until {@code done}: time passes without sleeping through it. */
  private static void advanceUntil(Duration step, Callable<Boolean> done) {
    await().atMost(30, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
      if (done.call()) {
        return true;
      }
      node.clock.advance(step);
      return false;
    });
  }

  /** Checks once the node's delivery side has settled: what it has not sent by then it will not send. */
  private static void onceSettled(Runnable check) {
    node.awaitDeliveriesQuiet();
    check.run();
  }

  private long audits(String bridgeId, String action) {
    return (Long) node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = $2", bridgeId, action);
  }

  @Test
  void deliversTheSignedCustomPayload() {
    String eventId = inbound("e-1", "hello out there");

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 1);

    TestSink.Received request = sink.received(path).get(0);
    JsonObject payload = request.json();
    assertThat(payload.getString("event_id")).isEqualTo(eventId);
    assertThat(payload.getJsonObject("content").getString("body")).isEqualTo("hello out there");
    assertThat(payload.getJsonObject("sender").getString("fqid")).isEqualTo("@bridge_" + source.getString("bridge_id").replace("_", "__") + "._u1:relay.test");
    assertThat(payload.getJsonObject("sender").getString("display_name")).isEqualTo("User U1");
    assertThat(payload.fieldNames()).contains("thread_id", "reply_to", "ts");
    String secret = secretOf(targetId);
    String header = request.headers().get("X-ScaiWave-Bridge-Signature");
    assertThat(com.scairelay.transport.SignatureScheme.verify(header, Buffer.buffer(request.body()), List.of(secret),
        node.clock.instant(), Duration.ofSeconds(300))).isEmpty();
    await().atMost(5, TimeUnit.SECONDS).until(() -> "delivered".equals(deliveryLog(targetId).getJsonObject(0).getString("status")));
  }

  private String secretOf(String bridgeId) {
    return node.node.bridges().find(bridgeId).await().orElseThrow().secret();
  }

  @Test
  void fiveHundredsAreRetriedWithBackoffUntilSuccessAndEveryAttemptIsLogged() {
    sink.answer(path, r -> r.index() < 2 ? Answer.status(503) : Answer.status(200));
    inbound("e-5xx", "retry me");

    advanceUntil(Duration.ofSeconds(3), () -> sink.delivered(path).size() == 1);

    await().atMost(5, TimeUnit.SECONDS).until(() -> "delivered".equals(deliveryLog(targetId).getJsonObject(0).getString("status")));
    JsonObject delivery = deliveryLog(targetId).getJsonObject(0);
    assertThat(delivery.getInteger("attempt_count")).isEqualTo(3);
    assertThat(delivery.getJsonArray("attempts").stream().map(JsonObject.class::cast).map(a -> a.getString("outcome") + ":" + a.getInteger("status_code")))
        .containsExactly("transient:503", "transient:503", "delivered:200");
    assertThat(delivery.getJsonArray("attempts").getJsonObject(0).getInteger("latency_ms")).isNotNull();
    assertThat(sink.received(path)).hasSize(3);
  }

  @Test
  void rateLimitedWaitsExactlyAsRetryAfterSays() {
    sink.answer(path, r -> r.index() == 0 ? Answer.status(429, Map.of("Retry-After", "120")) : Answer.status(200));
    inbound("e-429", "slow down");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).size() == 1);
    await().atMost(5, TimeUnit.SECONDS).until(() -> deliveryLog(targetId).getJsonObject(0).getInteger("attempt_count") == 1);

    Row row = node.sql("SELECT next_attempt_at, updated_at FROM deliveries WHERE target_id = $1", targetId).iterator().next();
    OffsetDateTime attemptedAt = row.getOffsetDateTime("updated_at");
    assertThat(Duration.between(attemptedAt, row.getOffsetDateTime("next_attempt_at"))).isEqualTo(Duration.ofSeconds(120));

    node.clock.advance(Duration.ofSeconds(119));
    onceSettled(() -> assertThat(sink.received(path)).hasSize(1));
    node.clock.advance(Duration.ofSeconds(2));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 1);
  }

  @Test
  void rateLimitedWithoutRetryAfterBacksOffAndFailsAfterThreeRetries() {
    sink.answer(path, r -> Answer.status(429));
    inbound("e-429x", "never");

    advanceUntil(Duration.ofSeconds(5), () -> "failed".equals(deliveryLog(targetId).getJsonObject(0).getString("status")));

    assertThat(sink.received(path)).hasSize(4);
    assertThat(audits(targetId, "bridge.delivery_failed")).isEqualTo(1L);
    String lastAnswer = (String) node.queryValue(
        "SELECT payload->>'last_answer' FROM audit_events WHERE resource_id = $1 AND action = 'bridge.delivery_failed'", targetId);
    assertThat(lastAnswer).isEqualTo("HTTP 429");
  }

  @Test
  void otherClientErrorsArePermanentAndDoNotBlockTheQueue() {
    sink.answer(path, r -> r.index() == 0 ? Answer.status(404) : Answer.status(200));
    String first = inbound("e-404", "lost");
    String second = inbound("e-after", "next");

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).equals(List.of(second)));
    // The second went out once the first was answered, while the first's result was being written.
    node.awaitDeliveriesQuiet();

    assertThat(sink.received(path)).hasSize(2);
    JsonObject failed = deliveryLog(targetId).stream().map(JsonObject.class::cast)
        .filter(d -> d.getString("event_id").equals(first)).findFirst().orElseThrow();
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.getInteger("attempt_count")).isEqualTo(1);
    JsonObject audit = new JsonObject((String) node.queryValue(
        "SELECT payload::text FROM audit_events WHERE resource_id = $1 AND action = 'bridge.delivery_failed'", targetId));
    assertThat(audit.getString("event_id")).isEqualTo(first);
    assertThat(audit.getString("bridge_id")).isEqualTo(targetId);
    assertThat(audit.getString("last_answer")).startsWith("HTTP 404");
  }

  @Test
  void theDeliveryLogAndTheTransportViewCountDeliveriesByStatusAndAttemptsByOutcome() {
    sink.answer(path, r -> r.index() == 0 ? Answer.status(503) : r.index() == 1 ? Answer.status(200) : Answer.status(404));
    inbound("e-count-1", "retried then delivered");
    advanceUntil(Duration.ofSeconds(2), () -> sink.delivered(path).size() == 1);
    inbound("e-count-2", "refused for good");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).size() == 3);
    node.awaitDeliveriesQuiet();

    JsonObject log = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + targetId + "/deliveries"), null).bodyAsJsonObject();
    assertThat(log.getString("transport")).isEqualTo("custom");
    assertThat(log.getJsonObject("totals").getJsonObject("deliveries").getMap()).containsEntry("delivered", 1).containsEntry("failed", 1);
    assertThat(log.getJsonObject("totals").getJsonObject("attempts").getMap())
        .containsEntry("transient", 1).containsEntry("delivered", 1).containsEntry("permanent", 1);

    JsonObject view = node.send(node.admin(HttpMethod.GET, "/v1/admin/transports"), null).bodyAsJsonObject();
    JsonObject custom = view.getJsonArray("transports").stream().map(JsonObject.class::cast)
        .filter(t -> t.getString("transport").equals("custom")).findFirst().orElseThrow();
    assertThat(custom.getLong("bridges")).isGreaterThanOrEqualTo(2);
    assertThat(custom.getJsonObject("attempts").getInteger("permanent")).isGreaterThanOrEqualTo(1);
    assertThat(custom.getJsonObject("deliveries").getInteger("delivered")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aTimeoutIsTransient() {
    sink.answer(path, r -> r.index() == 0 ? Answer.never() : Answer.status(200));
    inbound("e-timeout", "are you there");

    advanceUntil(Duration.ofSeconds(3), () -> sink.delivered(path).size() == 1);

    await().atMost(5, TimeUnit.SECONDS).until(() -> "delivered".equals(deliveryLog(targetId).getJsonObject(0).getString("status")));
    JsonObject first = deliveryLog(targetId).getJsonObject(0).getJsonArray("attempts").getJsonObject(0);
    assertThat(first.getString("outcome")).isEqualTo("transient");
    assertThat(first.getString("error")).containsIgnoringCase("timeout").doesNotContain("Exception");
  }

  @Test
  void connectionRefusedIsRetriedForAnHourThenFailsWithOneAdminAlert() {
    String dead = outboundBridge("http://127.0.0.1:" + TestNode.freePort() + "/gone", Map.of()).getString("bridge_id");
    inbound("e-dead-1", "one");
    inbound("e-dead-2", "two");

    advanceUntil(Duration.ofMinutes(4), () -> deliveryLog(dead).stream().map(JsonObject.class::cast)
        .allMatch(d -> "failed".equals(d.getString("status"))));

    JsonObject first = deliveryLog(dead).getJsonObject(1);
    JsonArray attempts = first.getJsonArray("attempts");
    assertThat(attempts.size()).isGreaterThan(5);
    assertThat(attempts.getJsonObject(0).getString("error")).containsIgnoringCase("refused")
        .as("no Java class name in the delivery log").doesNotContain("Exception");
    Duration tried = Duration.between(OffsetDateTime.parse(attempts.getJsonObject(0).getString("at")),
        OffsetDateTime.parse(attempts.getJsonObject(attempts.size() - 1).getString("at")));
    assertThat(tried).isBetween(Duration.ofMinutes(60), Duration.ofMinutes(64));
    assertThat(audits(dead, "bridge.delivery_failed")).isEqualTo(2L);
    assertThat(audits(dead, "bridge.unreachable")).isEqualTo(1L);
    assertThat(node.queryValue("SELECT category FROM audit_events WHERE resource_id = $1 AND action = 'bridge.unreachable'", dead))
        .isEqualTo("SECURITY");
  }

  @Test
  void eventsOfABridgeArriveInTheOrderOfTheRoomUnderConcurrency() {
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      posts.add(node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), TestNode.message("o-" + i, "U" + (i % 7), "m" + i)));
    }
    Future.all(posts).await();

    await().atMost(20, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() >= 100);

    List<String> roomOrder = new ArrayList<>();
    node.sql("SELECT id FROM events WHERE room_id = $1 ORDER BY seq", roomId).forEach(row -> roomOrder.add(row.getString(0)));
    assertThat(sink.delivered(path)).containsExactlyElementsOf(roomOrder);
  }

  @Test
  void aRetryHoldsBackTheMessagesBehindIt() {
    sink.answer(path, r -> r.index() == 0 ? Answer.status(503) : Answer.status(200));
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      sent.add(inbound("h-" + i, "m" + i));
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).size() == 1);
    onceSettled(() -> assertThat(sink.received(path)).as("nothing overtakes the message waiting for its retry").hasSize(1));

    advanceUntil(Duration.ofSeconds(3), () -> sink.delivered(path).size() == 6);

    assertThat(sink.delivered(path)).containsExactlyElementsOf(sent);
    assertThat(sink.received(path).get(0).eventId()).isEqualTo(sent.get(0));
  }

  @Test
  void finishedDeliveriesArePrunedAfterTheRetentionPendingOnesNever() {
    String delivered = inbound("r-1", "done");
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(deliveryLog(targetId).getJsonObject(0).getString("status")));
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/pause"), null);
    String queued = inbound("r-2", "waiting");
    node.clock.advance(Duration.ofDays(7).plusHours(1));

    node.node.pruneDeliveries().await();

    List<String> left = new ArrayList<>();
    node.sql("SELECT event_id FROM deliveries WHERE target_id = $1", targetId).forEach(row -> left.add(row.getString(0)));
    assertThat(left).containsExactly(queued).doesNotContain(delivered);
    assertThat(node.queryValue("SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.target_id = $1",
        targetId)).isEqualTo(0L);
  }

  @Test
  void aSlowEndpointDoesNotDelayAnother() {
    String slowPath = path + "-slow";
    sink.answer(slowPath, r -> Answer.never());
    outboundBridge(sink.url(slowPath), Map.of());
    for (int i = 0; i < 10; i++) {
      inbound("s-" + i, "m" + i);
    }

    await().atMost(3, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 10);

    assertThat(sink.received(slowPath).size()).isLessThanOrEqualTo(3);
  }

  @Test
  void aPausedBridgeKeepsItsOutboxAndResumeDrainsItInOrder() {
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/pause"), null);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(inbound("p-" + i, "m" + i));
    }
    onceSettled(() -> assertThat(sink.received(path)).isEmpty());

    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/resume"), null);

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 5);
    assertThat(sink.delivered(path)).containsExactlyElementsOf(sent);
  }

  @Test
  void aBridgeNeverReceivesWhatCameInThroughIt() {
    String pathA = path + "-a";
    String pathB = path + "-b";
    JsonObject a = outboundBridge(sink.url(pathA), Map.of("direction", "both"));
    JsonObject b = outboundBridge(sink.url(pathB), Map.of("direction", "both"));

    String viaA = node.postInbound(a.getString("bridge_id"), a.getString("shared_secret"), TestNode.message("x-1", "U1", "from A"))
        .await().bodyAsJsonObject().getString("event_id");
    String viaB = node.postInbound(b.getString("bridge_id"), b.getString("shared_secret"), TestNode.message("x-2", "U2", "from B"))
        .await().bodyAsJsonObject().getString("event_id");
    String nativeId = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), new JsonObject()
        .put("sender", "@nat:example.org").put("content", new JsonObject().put("msgtype", "swp.text").put("body", "native")))
        .bodyAsJsonObject().getString("event_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(pathA).size() == 2 && sink.delivered(pathB).size() == 2
        && sink.delivered(path).size() == 3);
    assertThat(sink.delivered(pathA)).containsExactly(viaB, nativeId);
    assertThat(sink.delivered(pathB)).containsExactly(viaA, nativeId);
    assertThat(sink.delivered(path)).containsExactly(viaA, viaB, nativeId);
    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND event_id = $2", a.getString("bridge_id"), viaA))
        .isEqualTo(0L);
  }

  @Test
  void anInboundOnlyBridgeGetsNothing() {
    inbound("i-1", "one");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 1);
    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1", source.getString("bridge_id"))).isEqualTo(0L);
  }

  @Test
  void aTargetHeldByAnotherLiveNodeIsTakenOverOnlyOnceThatNodesLeaseRunsOut() {
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/pause"), null);
    String eventId = inbound("l-1", "leased");
    // Another node holds the target and has claimed its row; its lease in PostgreSQL is valid for an hour.
    node.sql("INSERT INTO relay_nodes (node_id, http_url, started_at, renewed_at, expires_at) VALUES ('node_other', 'http://x', now(), now(), now() + interval '1 hour')");
    node.sql("INSERT INTO target_owners (target_id, target_kind, node_id, epoch, acquired_at) VALUES ($1, 'bridge', 'node_other', 7, now())"
        + " ON CONFLICT (target_id) DO UPDATE SET node_id = 'node_other', epoch = 7", targetId);
    node.sql("UPDATE deliveries SET lease_owner = 'node_other', lease_expires_at = $2 WHERE target_id = $1",
        targetId, node.clock.instant().plusSeconds(60).atOffset(java.time.ZoneOffset.UTC));
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/resume"), null);
    node.clock.advance(Duration.ofSeconds(61));

    onceSettled(() -> assertThat(sink.received(path)).as("the holder is alive: it alone may send").isEmpty());

    node.sql("UPDATE relay_nodes SET expires_at = now() - interval '1 millisecond' WHERE node_id = 'node_other'");
    node.clock.advance(Duration.ofSeconds(1)); // the next sweep

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).equals(List.of(eventId)));
    assertThat(node.queryValue("SELECT node_id || ':' || epoch FROM target_owners WHERE target_id = $1", targetId))
        .isEqualTo(node.node.nodeId() + ":8");
  }

  @Test
  void deletingABridgeCancelsWhatItHadQueuedAndAuditsIt() {
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + targetId + "/pause"), null);
    inbound("d-1", "one");
    inbound("d-2", "two");

    node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + targetId), null);

    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = 'cancelled'", targetId)).isEqualTo(2L);
    assertThat(node.queryValue("SELECT payload->>'cancelled' FROM audit_events WHERE resource_id = $1 AND action = 'bridge.deliveries_cancelled'", targetId))
        .isEqualTo("2");
    onceSettled(() -> assertThat(sink.received(path)).isEmpty());
  }
}
