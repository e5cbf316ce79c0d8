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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the console needs of webhooks: the test event, the list's paging and counters, the delivery log's fields. */
class WebhookConsoleTest {
  static TestNode node;
  static TestSink sink;
  static final AtomicInteger paths = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50", "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1000"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  private static JsonObject subscribe(String url, JsonObject extra) {
    JsonObject body = new JsonObject().put("name", "console " + paths.incrementAndGet()).put("url", url)
        .put("events", new JsonArray().add("COMPLIANCE"));
    extra.forEach(e -> body.put(e.getKey(), e.getValue()));
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private static String path() {
    return "/console-" + paths.incrementAndGet();
  }

  private static JsonObject sendTest(String webhookId) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/test"), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject();
  }

  private static JsonObject get(String path) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, path), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static JsonObject delivery(String webhookId, long deliveryId) {
    return get("/v1/admin/webhooks/" + webhookId + "/deliveries").getJsonArray("deliveries").stream().map(JsonObject.class::cast)
        .filter(d -> d.getLong("delivery_id") == deliveryId).findFirst().orElseThrow();
  }

  @Test
  void aTestEventReachesThatWebhookOnlySignedWhateverItsFiltersAndShowsInItsDeliveries() throws Exception {
    String target = path();
    String other = path();
    // Its filters would let no event of a producer through; the test event goes all the same.
    JsonObject webhook = subscribe(sink.url(target), new JsonObject().put("events", new JsonArray().add("COMPLIANCE").add("SECURITY"))
        .put("filters", new JsonObject().put("resource_ids", new JsonArray().add("nothing-matches"))));
    String webhookId = webhook.getString("webhook_id");
    subscribe(sink.url(other), new JsonObject().put("events", new JsonArray().add("COMPLIANCE")));

    JsonObject sent = sendTest(webhookId);

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(target).size() == 1);
    node.awaitDeliveriesQuiet();
    TestSink.Received request = sink.received(target).get(0);
    JsonObject event = request.json();
    assertThat(event.getString("event_id")).isEqualTo(sent.getString("event_id"));
    assertThat(event.getString("category")).as("the webhook's first category").isEqualTo("COMPLIANCE");
    assertThat(event.getString("action")).isEqualTo("webhook.test");
    assertThat(event.getString("user_id")).isEqualTo("admin");
    assertThat(event.getString("resource_id")).isEqualTo(webhookId);
    assertThat(event.getJsonObject("payload")).isEqualTo(new JsonObject().put("test", true));
    assertThat(request.headers().get("X-ScaiDrive-Event")).isEqualTo("webhook.test");
    assertThat(request.headers().get("X-ScaiDrive-Delivery-Id")).isEqualTo("dlv_" + sent.getLong("delivery_id"));
    assertThat(request.headers().get("X-ScaiDrive-Signature")).isEqualTo(signature(webhook.getString("secret"), request));
    assertThat(sink.received(other)).as("no other subscription gets it").isEmpty();

    JsonObject logged = delivery(webhookId, sent.getLong("delivery_id"));
    assertThat(logged.getString("event_id")).isEqualTo(sent.getString("event_id"));
    assertThat(logged.getString("status")).isEqualTo("delivered");
    assertThat(logged.getInteger("last_status_code")).isEqualTo(200);
    assertThat(logged.getJsonArray("attempts").getJsonObject(0).getInteger("status_code")).isEqualTo(200);
    JsonObject audited = get("/v1/admin/audit?action=webhook.test_sent&resource_id=" + webhookId).getJsonArray("events").getJsonObject(0);
    assertThat(audited.getString("category")).isEqualTo("ADMIN");
    assertThat(audited.getJsonObject("payload").getString("event_id")).isEqualTo(sent.getString("event_id"));
    assertThat(audited.getJsonObject("payload").getLong("delivery_id")).isEqualTo(sent.getLong("delivery_id"));
  }

  @Test
  void aPausedWebhookKeepsItsTestEventQueuedUntilResumed() {
    String target = path();
    String webhookId = subscribe(sink.url(target), new JsonObject()).getString("webhook_id");
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/pause"), null).statusCode()).isEqualTo(200);

    JsonObject sent = sendTest(webhookId);
    node.awaitDeliveriesQuiet();

    assertThat(sink.received(target)).isEmpty();
    assertThat(delivery(webhookId, sent.getLong("delivery_id")).getString("status")).isEqualTo("pending");
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/resume"), null).statusCode()).isEqualTo(200);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(target).contains(sent.getString("event_id")));
  }

  @Test
  void testingAnUnknownWebhookIs404() {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/whk_missing/test"), null);
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).isEqualTo("no webhook whk_missing");
  }

  /** The log shows, per attempt, its status code, latency and error, and a pending delivery's next attempt. */
  @Test
  void theDeliveryLogShowsEachAttemptsStatusLatencyErrorAndTheNextAttempt() {
    String down = path();
    sink.answer(down, r -> Answer.status(503));
    String answering = subscribe(sink.url(down), new JsonObject()).getString("webhook_id");
    String refusing = subscribe("http://127.0.0.1:9/closed", new JsonObject()).getString("webhook_id");
    Instant sentAt = node.clock.instant();

    JsonObject first = sendTest(answering);
    JsonObject second = sendTest(refusing);
    await().atMost(10, TimeUnit.SECONDS).until(() -> delivery(answering, first.getLong("delivery_id")).getInteger("attempt_count") == 1
        && delivery(refusing, second.getLong("delivery_id")).getInteger("attempt_count") == 1);

    JsonObject answered = delivery(answering, first.getLong("delivery_id"));
    assertThat(answered.getString("status")).isEqualTo("pending");
    assertThat(Instant.parse(answered.getString("next_attempt_at"))).as("30 s later, the first step of the schedule")
        .isAfterOrEqualTo(sentAt.plusSeconds(30)).isBefore(sentAt.plusSeconds(40));
    JsonObject attempt = answered.getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getInteger("status_code")).isEqualTo(503);
    assertThat(attempt.getInteger("latency_ms")).isNotNull().isGreaterThanOrEqualTo(0);
    assertThat(attempt.containsKey("error")).isTrue();
    JsonObject refused = delivery(refusing, second.getLong("delivery_id")).getJsonArray("attempts").getJsonObject(0);
    assertThat(refused.getInteger("status_code")).isNull();
    assertThat(refused.getString("error")).isNotBlank();
    assertThat(refused.getInteger("latency_ms")).isNotNull();
  }

  @Test
  void theListPagesWithACursorAndCountsDeliveredFailedAndQueued() {
    String ok = path();
    String failing = path();
    sink.answer(failing, r -> Answer.status(500));
    String delivering = subscribe(sink.url(ok), new JsonObject()).getString("webhook_id");
    String dropping = subscribe(sink.url(failing), new JsonObject()).getString("webhook_id");
    String paused = subscribe(sink.url(path()), new JsonObject()).getString("webhook_id");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + paused + "/pause"), null);
    sendTest(delivering);
    sendTest(delivering);
    sendTest(paused);
    sendTest(dropping);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(failing).size() == 1 && sink.delivered(ok).size() == 2);
    for (int retry = 0; retry < 7; retry++) {
      int seen = sink.received(failing).size();
      node.clock.advance(Duration.ofHours(25));
      await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(failing).size() == seen + 1);
    }
    await().atMost(10, TimeUnit.SECONDS).until(() ->
        "failed".equals(node.queryValue("SELECT status FROM deliveries WHERE target_id = $1", dropping)));
    node.awaitDeliveriesQuiet();

    List<JsonObject> all = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page = get("/v1/admin/webhooks?limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
      page.getJsonArray("webhooks").forEach(w -> all.add((JsonObject) w));
      assertThat(page.getJsonArray("webhooks").size()).isLessThanOrEqualTo(2);
      assertThat(page.containsKey("next_cursor")).isTrue();
      cursor = page.getString("next_cursor");
      pages++;
    } while (cursor != null && pages < 50);
    long total = (Long) node.queryValue("SELECT count(*) FROM webhooks WHERE deleted_at IS NULL");
    assertThat(all).hasSize((int) total);
    assertThat(all.stream().map(w -> w.getString("webhook_id")).distinct().count()).isEqualTo(total);
    assertThat(pages).isGreaterThan(1);
    assertThat(counters(all, delivering)).isEqualTo(new JsonObject().put("delivered", 2L).put("failed", 0L).put("queued", 0L));
    assertThat(counters(all, dropping)).isEqualTo(new JsonObject().put("delivered", 0L).put("failed", 1L).put("queued", 0L));
    assertThat(counters(all, paused)).isEqualTo(new JsonObject().put("delivered", 0L).put("failed", 0L).put("queued", 1L));
    HttpResponse<Buffer> bad = node.send(node.admin(HttpMethod.GET, "/v1/admin/webhooks?cursor=whk_missing"), null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.bodyAsJsonObject().getString("detail")).contains("query parameter 'cursor'");
  }

  private static JsonObject counters(List<JsonObject> webhooks, String id) {
    return webhooks.stream().filter(w -> w.getString("webhook_id").equals(id)).findFirst().orElseThrow().getJsonObject("counters");
  }

  private static String signature(String secret, TestSink.Received request) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(request.body().getBytes(StandardCharsets.UTF_8)));
  }
}
