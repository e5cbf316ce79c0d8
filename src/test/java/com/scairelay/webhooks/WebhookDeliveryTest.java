package com.scairelay.webhooks;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Audit events delivered to webhook subscriptions: routing, filters, headers, signature, schedule, pause, rotation, restart. */
class WebhookDeliveryTest {
  static final Map<String, String> ENV = Map.of("RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50", "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1000");
  static TestNode node;
  static TestSink sink;
  static final AtomicInteger paths = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(ENV);
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  private static JsonObject subscribe(TestNode on, String path, JsonObject extra) {
    JsonObject body = new JsonObject().put("name", path).put("url", sink.url(path)).put("events", new JsonArray().add("FILE_ACCESS"));
    extra.forEach(e -> body.put(e.getKey(), e.getValue()));
    HttpResponse<Buffer> response = on.send(on.admin(HttpMethod.POST, "/v1/admin/webhooks"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private static String publish(TestNode on, JsonObject event) {
    HttpResponse<Buffer> response = on.send(on.admin(HttpMethod.POST, "/v1/events"), event);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  private static JsonObject fileAccess(String user, String resource, String ip) {
    return new JsonObject().put("category", "FILE_ACCESS").put("action", "file.read").put("user_id", user)
        .put("resource_id", resource).put("ip", ip).put("payload", new JsonObject().put("path", "/a.txt"));
  }

  private static String path() {
    return "/wh-" + paths.incrementAndGet();
  }

  private static List<String> eventIds(String path) {
    return sink.delivered(path);
  }

  @Test
  void eventsReachOnlySubscriptionsWhoseCategoriesAndFiltersMatch() {
    String any = path();
    String byUser = path();
    String byResource = path();
    String byIp = path();
    String security = path();
    subscribe(node, any, new JsonObject());
    subscribe(node, byUser, new JsonObject().put("filters", new JsonObject().put("user_ids", new JsonArray().add("u1"))));
    subscribe(node, byResource, new JsonObject().put("filters", new JsonObject().put("resource_ids", new JsonArray().add("r1"))));
    subscribe(node, byIp, new JsonObject().put("filters", new JsonObject().put("ips", new JsonArray().add("10.0.0.7"))
        .put("user_ids", new JsonArray().add("u2"))));
    subscribe(node, security, new JsonObject().put("events", new JsonArray().add("SECURITY")));

    String e1 = publish(node, fileAccess("u1", "r9", "10.0.0.1"));
    String e2 = publish(node, fileAccess("u2", "r1", "10.0.0.7"));
    String e3 = publish(node, fileAccess("u2", "r9", "10.0.0.8"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(any).size() == 3);
    node.awaitDeliveriesQuiet();
    assertThat(eventIds(any)).containsExactly(e1, e2, e3);
    assertThat(eventIds(byUser)).containsExactly(e1);
    assertThat(eventIds(byResource)).containsExactly(e2);
    assertThat(eventIds(byIp)).containsExactly(e2);
    assertThat(eventIds(security)).isEmpty();
  }

  @Test
  void aDeliveryCarriesTheEventTheHeadersAndAVerifiableSignature() throws Exception {
    String path = path();
    JsonObject webhook = subscribe(node, path, new JsonObject().put("headers", new JsonObject().put("X-Tenant", "acme")));
    String eventId = publish(node, fileAccess("u1", "r1", "10.0.0.1"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(path).size() == 1);

    TestSink.Received request = sink.received(path).get(0);
    JsonObject body = request.json();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("event_id", "timestamp", "category", "action", "user_id", "resource_id", "payload");
    assertThat(body.getString("event_id")).isEqualTo(eventId).startsWith("evt_");
    assertThat(body.getString("action")).isEqualTo("file.read");
    assertThat(body.getJsonObject("payload").getString("path")).isEqualTo("/a.txt");
    assertThat(request.headers().get("X-ScaiDrive-Event")).isEqualTo("file.read");
    assertThat(request.headers().get("X-ScaiDrive-Delivery-Id")).startsWith("dlv_");
    assertThat(request.headers().get("X-Tenant")).isEqualTo("acme");
    assertThat(request.headers().getAll("Content-Type")).containsExactly("application/json");
    assertThat(request.headers().get("X-ScaiDrive-Signature")).isEqualTo(signature(webhook.getString("secret"), request));
  }

  @Test
  void aContentTypeHeaderReplacesApplicationJsonAndTheSignatureStillCoversTheBodyBytes() throws Exception {
    String path = path();
    String mediaType = "application/vnd.acme.audit+json; charset=utf-8";
    JsonObject webhook = subscribe(node, path, new JsonObject().put("headers", new JsonObject()
        .put("content-type", mediaType).put("Authorization", "Bearer tok-123")));
    String text = "Grüße aus Köln \uD83D\uDC4B \u2028 \"quoted\"";
    publish(node, fileAccess("u1", "r1", "10.0.0.1").put("payload", new JsonObject().put("path", "/ä/\u00e9.txt").put("note", text)));

    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(path).size() == 1);

    TestSink.Received request = sink.received(path).get(0);
    assertThat(request.headers().getAll("Content-Type")).containsExactly(mediaType);
    assertThat(request.headers().get("Authorization")).isEqualTo("Bearer tok-123");
    assertThat(request.json().getJsonObject("payload").getString("note")).isEqualTo(text);
    assertThat(request.body()).contains("Grüße");
    assertThat(request.headers().get("X-ScaiDrive-Signature")).isEqualTo(signature(webhook.getString("secret"), request));
  }

  /** The hex HMAC-SHA256 of the body's bytes as they arrived (the sink decodes them as UTF-8; the same bytes again). */
  private static String signature(String secret, TestSink.Received request) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(request.body().getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void failingDeliveriesFollowTheScheduleThenDropWithASecurityEventThatNeverLoopsBack() {
    String failing = path();
    String watcher = path();
    sink.answer(failing, r -> Answer.status(500));
    String failingId = subscribe(node, failing, new JsonObject().put("events", new JsonArray().add("SECURITY"))).getString("webhook_id");
    subscribe(node, watcher, new JsonObject().put("events", new JsonArray().add("SECURITY")));
    String eventId = publish(node, new JsonObject().put("category", "SECURITY").put("action", "login.bruteforce").put("user_id", "u9"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(failing).size() == 1);
    List<Duration> schedule = List.of(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15),
        Duration.ofHours(1), Duration.ofHours(6), Duration.ofHours(24));
    for (int retry = 0; retry < schedule.size(); retry++) {
      int seen = sink.received(failing).size();
      node.clock.advance(schedule.get(retry).minusSeconds(1));
      node.awaitDeliveriesQuiet();
      assertThat(sink.received(failing)).as("not before the schedule").hasSize(seen);
      node.clock.advance(Duration.ofSeconds(2));
      await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(failing).size() == seen + 1);
    }

    await().atMost(10, TimeUnit.SECONDS).until(() ->
        "failed".equals(node.queryValue("SELECT status FROM deliveries WHERE target_id = $1", failingId)));
    assertThat(sink.received(failing)).hasSize(8).extracting(r -> r.headers().get("X-ScaiDrive-Delivery-Id")).containsOnly(
        sink.received(failing).get(0).headers().get("X-ScaiDrive-Delivery-Id"));
    assertThat(sink.received(failing)).extracting(TestSink.Received::eventId).containsOnly(eventId);
    JsonObject logged = node.send(node.admin(HttpMethod.GET, "/v1/admin/webhooks/" + failingId + "/deliveries"), null)
        .bodyAsJsonObject().getJsonArray("deliveries").getJsonObject(0);
    assertThat(logged.getString("status")).isEqualTo("failed");
    assertThat(logged.getJsonArray("attempts")).hasSize(8);
    assertThat(logged.getJsonArray("attempts").getJsonObject(0).getInteger("status_code")).isEqualTo(500);
    assertThat(logged.getJsonArray("attempts").getJsonObject(0).getInteger("latency_ms")).isNotNull();
    JsonObject dropped = new JsonObject((String) node.queryValue(
        "SELECT row_to_json(a)::text FROM audit_events a WHERE action = 'webhook.delivery_dropped' AND resource_id = $1", failingId));
    assertThat(dropped.getString("category")).isEqualTo("SECURITY");
    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(watcher).contains(dropped.getString("event_id")));
    node.awaitDeliveriesQuiet();
    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1", failingId))
        .as("the drop is never sent to the subscription that dropped it").isEqualTo(1L);
  }

  @Test
  void aPausedSubscriptionQueuesUpToItsLimitCountsTheRestAndCatchesUpInOrder() {
    String path = path();
    String id = subscribe(node, path, new JsonObject().put("queue_limit", 3)).getString("webhook_id");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/pause"), null);
    List<String> published = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      published.add(publish(node, fileAccess("u" + i, "r", "10.0.0.1")));
    }
    node.awaitDeliveriesQuiet();
    assertThat(sink.received(path)).isEmpty();

    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/resume"), null);
    String live = publish(node, fileAccess("u-live", "r", "10.0.0.1"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(path).size() == 4);
    assertThat(eventIds(path)).containsExactly(published.get(0), published.get(1), published.get(2), live);
    assertThat(node.queryValue("SELECT payload->>'dropped' FROM audit_events WHERE resource_id = $1 AND action = 'webhook.queue_overflow'", id))
        .isEqualTo("2");
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = 'webhook.queue_overflow'", id)).isEqualTo(1L);
  }

  @Test
  void deletingASubscriptionCancelsWhatItHadQueued() {
    String path = path();
    String id = subscribe(node, path, new JsonObject()).getString("webhook_id");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/pause"), null);
    publish(node, fileAccess("u1", "r1", "10.0.0.1"));

    node.send(node.admin(HttpMethod.DELETE, "/v1/admin/webhooks/" + id), null);

    assertThat(node.queryValue("SELECT status FROM deliveries WHERE target_id = $1", id)).isEqualTo("cancelled");
    node.awaitDeliveriesQuiet();
    assertThat(sink.received(path)).isEmpty();
  }

  @Test
  void afterRotationTheNewSecretSigns() throws Exception {
    String path = path();
    String id = subscribe(node, path, new JsonObject()).getString("webhook_id");
    String secret = node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/rotate-secret"), null).bodyAsJsonObject().getString("secret");
    publish(node, fileAccess("u1", "r1", "10.0.0.1"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(path).size() == 1);
    TestSink.Received request = sink.received(path).get(0);
    assertThat(request.headers().get("X-ScaiDrive-Signature")).isEqualTo(signature(secret, request));
  }

  @Test
  void theEnginesOwnAuditEventsFlowToSubscriptions() {
    String path = path();
    subscribe(node, path, new JsonObject().put("events", new JsonArray().add("ADMIN")));
    String roomId = node.createRoom("audited").getString("room_id");
    String bridgeId = node.createBridge(roomId, "inbound").getString("bridge_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).stream()
        .anyMatch(r -> "bridge.created".equals(r.json().getString("action")) && bridgeId.equals(r.json().getString("resource_id"))));
  }

  @Test
  void publishingRefusesBadEvents() {
    HttpResponse<Buffer> unknown = node.send(node.admin(HttpMethod.POST, "/v1/events"), new JsonObject().put("category", "WEATHER").put("action", "rain"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.bodyAsJsonObject().getString("detail")).contains("'category'");
    HttpResponse<Buffer> noAction = node.send(node.admin(HttpMethod.POST, "/v1/events"), new JsonObject().put("category", "ADMIN"));
    assertThat(noAction.bodyAsJsonObject().getString("detail")).contains("'action'");
    assertThat(node.send(node.request(HttpMethod.POST, "/v1/events"), fileAccess("u", "r", "i")).statusCode()).isEqualTo(401);
  }

  @Test
  void queuedDeliveriesSurviveARestart() {
    AtomicBoolean up = new AtomicBoolean(false);
    String path = path();
    sink.answer(path, r -> up.get() ? Answer.status(200) : Answer.status(503));
    try (TestNode first = TestNode.start(ENV)) {
      subscribe(first, path, new JsonObject());
      String eventId = publish(first, fileAccess("u1", "r1", "10.0.0.1"));
      await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).size() == 1);
      first.node.stop().await();
      up.set(true);
      try (TestNode second = TestNode.startOn(first.pg, ENV)) {
        second.clock.advance(Duration.ofSeconds(31));
        await().atMost(10, TimeUnit.SECONDS).until(() -> eventIds(path).equals(List.of(eventId)));
      }
    }
  }
}
