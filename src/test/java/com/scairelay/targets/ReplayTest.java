package com.scairelay.targets;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Replay against a real node and a loopback receiver: resending one delivery, recovering what failed
 * for good in a time window (the window on the node's clock), and the paged query of the delivery log.
 * The receiver answers by the message's text: {@code fail…} 404 (failed at once, for good),
 * {@code wait…} 503 (pending, retried), anything else 200, until a test says otherwise.
 */
class ReplayTest {
  static TestNode node;
  static TestSink sink;
  static final AtomicInteger paths = new AtomicInteger();

  String roomId;
  JsonObject source;
  String path;
  String bridgeId;
  /** While set, the receiver answers 200 to everything. */
  volatile boolean healed;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of(
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50",
        "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1000"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  @BeforeEach
  void bridge() {
    roomId = node.createRoom("replay").getString("room_id");
    source = node.createBridge(roomId, "inbound");
    path = "/replay-" + paths.incrementAndGet();
    sink.answer(path, r -> {
      String text = r.json().getJsonObject("content").getString("body");
      if (healed) {
        return Answer.status(200);
      }
      return text.startsWith("fail") ? Answer.status(404) : text.startsWith("wait") ? Answer.status(503) : Answer.status(200);
    });
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId)
        .put("name", "out").put("outbound_webhook", sink.url(path)).put("max_in_flight", 1);
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    bridgeId = created.bodyAsJsonObject().getString("bridge_id");
  }

  /** Posts a message into the room; answers our event id. */
  private String say(String text) {
    HttpResponse<Buffer> response = node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"),
        TestNode.message("f-" + text + "-" + paths.incrementAndGet(), "U1", text)).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("event_id");
  }

  /** Posts a message and waits until its delivery has the status {@code status}; answers the delivery. */
  private JsonObject sayAndAwait(String text, String status) {
    String eventId = say(text);
    await().atMost(10, TimeUnit.SECONDS).until(() -> status.equals(deliveryOf(eventId).getString("status")));
    return deliveryOf(eventId);
  }

  private JsonObject deliveryOf(String eventId) {
    return log("?limit=500").getJsonArray("deliveries").stream().map(JsonObject.class::cast)
        .filter(d -> d.getString("event_id").equals(eventId)).findFirst().orElse(new JsonObject());
  }

  private JsonObject log(String query) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries" + query), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private HttpResponse<Buffer> resend(String kind, String targetId, Object deliveryId) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/" + kind + "s/" + targetId + "/deliveries/" + deliveryId + "/resend"), null);
  }

  private HttpResponse<Buffer> recover(String kind, String targetId, JsonObject window) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/" + kind + "s/" + targetId + "/recover"), window);
  }

  private static JsonObject window(Instant since, Instant until) {
    JsonObject window = new JsonObject().put("since", since.toString());
    return until == null ? window : window.put("until", until.toString());
  }

  private long audits(String resourceId, String action) {
    return (Long) node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = $2 AND category = 'ADMIN'",
        resourceId, action);
  }

  private static List<Long> ids(JsonArray array) {
    List<Long> ids = new ArrayList<>();
    array.forEach(id -> ids.add(((Number) id).longValue()));
    return ids;
  }

  private static void assertProblem(HttpResponse<Buffer> response, int status, String detail) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detail);
  }

  @Test
  void aDeliveryFailedForGoodIsResentDeliveredAndAudited() {
    JsonObject failed = sayAndAwait("fail once", "failed");
    String eventId = failed.getString("event_id");
    assertThat(sink.delivered(path)).isEmpty();
    healed = true;

    HttpResponse<Buffer> resent = resend("bridge", bridgeId, failed.getLong("delivery_id"));

    assertThat(resent.statusCode()).as(resent.bodyAsString()).isEqualTo(202);
    JsonObject answer = resent.bodyAsJsonObject();
    assertThat(answer.getLong("resent_from")).isEqualTo(failed.getLong("delivery_id"));
    assertThat(answer.getString("event_id")).isEqualTo(eventId);
    assertThat(answer.getString("previous_status")).isEqualTo("failed");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).equals(List.of(eventId)));
    long copy = answer.getLong("delivery_id");
    await().atMost(5, TimeUnit.SECONDS).until(() -> "delivered".equals(log("").getJsonArray("deliveries").getJsonObject(0).getString("status")));
    JsonObject newest = log("").getJsonArray("deliveries").getJsonObject(0);
    assertThat(newest.getLong("delivery_id")).isEqualTo(copy);
    assertThat(newest.getLong("resent_from")).isEqualTo(failed.getLong("delivery_id"));
    JsonObject original = log("").getJsonArray("deliveries").getJsonObject(1);
    assertThat(original.getString("status")).as("the log keeps the failure and its attempt").isEqualTo("failed");
    assertThat(original.getJsonArray("attempts")).hasSize(1);
    assertThat(original.getLong("resent_as")).isEqualTo(copy);
    assertThat(audits(bridgeId, "bridge.delivery_resent")).isEqualTo(1L);
    JsonObject audit = new JsonObject((String) node.queryValue(
        "SELECT payload::text FROM audit_events WHERE resource_id = $1 AND action = 'bridge.delivery_resent'", bridgeId));
    assertThat(audit.getLong("delivery_id")).isEqualTo(copy);
    assertThat(audit.getLong("resent_from")).isEqualTo(failed.getLong("delivery_id"));
  }

  @Test
  void aDeliveredDeliveryIsSentAgainAtTheBackOfTheQueueAndAPendingOneIsAConflict() {
    JsonObject delivered = sayAndAwait("hello", "delivered");
    JsonObject pending = sayAndAwait("wait for me", "pending");

    HttpResponse<Buffer> conflict = resend("bridge", bridgeId, pending.getLong("delivery_id"));
    assertProblem(conflict, 409, "is still pending");
    HttpResponse<Buffer> again = resend("bridge", bridgeId, "dlv_" + delivered.getLong("delivery_id"));
    assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
    assertThat(again.bodyAsJsonObject().getString("previous_status")).isEqualTo("delivered");

    node.awaitDeliveriesQuiet();
    assertThat(sink.delivered(path)).as("the copy waits behind the pending delivery (max_in_flight 1: one FIFO queue)")
        .containsExactly(delivered.getString("event_id"));
    healed = true;
    node.clock.advance(Duration.ofMinutes(5));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 3);
    assertThat(sink.delivered(path)).containsExactly(delivered.getString("event_id"), pending.getString("event_id"),
        delivered.getString("event_id"));
    assertThat(audits(bridgeId, "bridge.delivery_resent")).isEqualTo(1L);
  }

  @Test
  void recoverRequeuesExactlyTheFailuresOfItsWindowInOrderAndOnlyOnce() {
    String before = sayAndAwait("fail before", "failed").getString("event_id");
    node.clock.advance(Duration.ofMinutes(10));
    Instant since = node.clock.instant();
    String first = sayAndAwait("fail first", "failed").getString("event_id");
    String delivered = sayAndAwait("fine", "delivered").getString("event_id");
    String second = sayAndAwait("fail second", "failed").getString("event_id");
    node.clock.advance(Duration.ofMinutes(10));
    Instant until = node.clock.instant().plusMillis(999);
    node.clock.advance(Duration.ofSeconds(1));
    String after = sayAndAwait("fail after", "failed").getString("event_id");
    healed = true;
    int sent = sink.received(path).size();

    HttpResponse<Buffer> recovered = recover("bridge", bridgeId, window(since, until));

    assertThat(recovered.statusCode()).as(recovered.bodyAsString()).isEqualTo(202);
    JsonObject answer = recovered.bodyAsJsonObject();
    assertThat(answer.getInteger("recovered")).isEqualTo(2);
    assertThat(answer.getLong("remaining")).isZero();
    List<Long> copies = ids(answer.getJsonArray("delivery_ids"));
    assertThat(copies).hasSize(2).isSorted();
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 3);
    node.awaitDeliveriesQuiet();
    assertThat(sink.delivered(path)).containsExactly(delivered, first, second);
    assertThat(sink.received(path)).hasSize(sent + 2);
    assertThat(copies.stream().map(id -> log("?limit=500").getJsonArray("deliveries").stream().map(JsonObject.class::cast)
        .filter(d -> d.getLong("delivery_id").equals(id)).findFirst().orElseThrow().getString("event_id")))
        .containsExactly(first, second);
    assertThat(audits(bridgeId, "bridge.deliveries_recovered")).isEqualTo(1L);

    HttpResponse<Buffer> twice = recover("bridge", bridgeId, window(since, until));

    assertThat(twice.statusCode()).isEqualTo(202);
    assertThat(twice.bodyAsJsonObject().getInteger("recovered")).isZero();
    assertThat(twice.bodyAsJsonObject().getJsonArray("delivery_ids")).isEmpty();
    node.awaitDeliveriesQuiet();
    assertThat(sink.received(path)).hasSize(sent + 2);
    assertThat(audits(bridgeId, "bridge.deliveries_recovered")).as("a recovery that queued nothing changed nothing").isEqualTo(1L);
    assertThat(List.of(before, after)).doesNotContainAnyElementsOf(sink.delivered(path));
  }

  @Test
  void recoverWithoutUntilEndsNowAndALimitLeavesTheRestForTheNextCall() {
    Instant since = node.clock.instant();
    String a = sayAndAwait("fail a", "failed").getString("event_id");
    String b = sayAndAwait("fail b", "failed").getString("event_id");
    String c = sayAndAwait("fail c", "failed").getString("event_id");
    healed = true;

    JsonObject firstCall = recover("bridge", bridgeId, window(since, null).put("limit", 2)).bodyAsJsonObject();
    assertThat(firstCall.getInteger("recovered")).isEqualTo(2);
    assertThat(firstCall.getLong("remaining")).isEqualTo(1L);
    assertThat(firstCall.getString("until")).isEqualTo(node.clock.instant().toString());
    JsonObject secondCall = recover("bridge", bridgeId, window(since, null).put("limit", 2)).bodyAsJsonObject();
    assertThat(secondCall.getInteger("recovered")).isEqualTo(1);
    assertThat(secondCall.getLong("remaining")).isZero();

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).size() == 3);
    assertThat(sink.delivered(path)).containsExactly(a, b, c);
  }

  @Test
  void aFailureWhoseEventRetentionPurgedIsNeitherResentNorRecovered() {
    Instant since = node.clock.instant();
    JsonObject purged = sayAndAwait("fail then purged", "failed");
    String kept = sayAndAwait("fail and kept", "failed").getString("event_id");
    node.sql("DELETE FROM events WHERE id = $1", purged.getString("event_id")); // what retention.events_days does
    healed = true;

    assertProblem(resend("bridge", bridgeId, purged.getLong("delivery_id")), 409, "no longer stored");
    HttpResponse<Buffer> recovered = recover("bridge", bridgeId, window(since, node.clock.instant().plusSeconds(1)));

    assertThat(recovered.statusCode()).as(recovered.bodyAsString()).isEqualTo(202);
    assertThat(recovered.bodyAsJsonObject().getInteger("recovered")).isEqualTo(1);
    assertThat(recovered.bodyAsJsonObject().getLong("remaining")).as("a purged failure is not left to recover").isZero();
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(path).equals(List.of(kept)));
  }

  @Test
  void theUndeliveredQueryPagesByStatusAndSince() {
    List<Long> failedEarly = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      failedEarly.add(sayAndAwait("fail early " + i, "failed").getLong("delivery_id"));
    }
    node.clock.advance(Duration.ofMinutes(30));
    Instant since = node.clock.instant();
    List<Long> failedLate = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      failedLate.add(sayAndAwait("fail late " + i, "failed").getLong("delivery_id"));
    }
    long delivered = sayAndAwait("fine", "delivered").getLong("delivery_id");
    long pending = sayAndAwait("wait here", "pending").getLong("delivery_id");

    JsonObject page1 = log("?status=failed&since=" + since + "&limit=2");
    assertThat(ids(page1, "deliveries")).containsExactly(failedLate.get(2), failedLate.get(1));
    assertThat(page1.getLong("next_cursor")).isEqualTo(failedLate.get(1));
    JsonObject page2 = log("?status=failed&since=" + since + "&limit=2&cursor=" + page1.getLong("next_cursor"));
    assertThat(ids(page2, "deliveries")).containsExactly(failedLate.get(0));
    assertThat(page2.getValue("next_cursor")).isNull();

    assertThat(ids(log("?status=failed"), "deliveries")).containsExactly(failedLate.get(2), failedLate.get(1), failedLate.get(0),
        failedEarly.get(1), failedEarly.get(0));
    assertThat(ids(log("?status=pending"), "deliveries")).containsExactly(pending);
    assertThat(ids(log("?status=delivered&since=" + since), "deliveries")).containsExactly(delivered);
    JsonObject all = log("?limit=3");
    assertThat(ids(all, "deliveries")).containsExactly(pending, delivered, failedLate.get(2));
    assertThat(all.getString("transport")).isEqualTo("custom");
    assertThat(all.getJsonObject("totals").getJsonObject("deliveries").getMap())
        .containsEntry("failed", 5).containsEntry("delivered", 1).containsEntry("pending", 1);
  }

  private static List<Long> ids(JsonObject page, String field) {
    return page.getJsonArray(field).stream().map(JsonObject.class::cast).map(d -> d.getLong("delivery_id")).toList();
  }

  @Test
  void badTimesUnknownIdsAndOtherTargetsDeliveriesAreProblemsWithADetail() {
    long failed = sayAndAwait("fail here", "failed").getLong("delivery_id");
    Instant now = node.clock.instant();

    assertProblem(recover("bridge", bridgeId, new JsonObject().put("since", "yesterday")), 400, "field 'since' must be an ISO-8601 date-time");
    assertProblem(recover("bridge", bridgeId, new JsonObject().put("since", "2026-11-23T01:48:55")), 400, "with an offset");
    assertProblem(recover("bridge", bridgeId, new JsonObject()), 400, "field 'since' is required");
    assertProblem(recover("bridge", bridgeId, window(now, now.minusSeconds(1))), 400, "field 'until' (");
    assertProblem(recover("bridge", bridgeId, window(now.plusSeconds(60), null)), 400, "without 'until' the window ends now");
    assertProblem(recover("bridge", bridgeId, new JsonObject().put("since", "+12026-01-01T00:00:00Z")), 400, "between the years 1 and 9999");
    assertProblem(recover("bridge", "brg_nope", window(now, null)), 404, "no bridge brg_nope");
    assertProblem(recover("webhook", bridgeId, window(now, null)), 404, "no webhook " + bridgeId);

    String other = node.createBridge(roomId, "outbound").getString("bridge_id");
    assertProblem(resend("bridge", other, failed), 404, "bridge " + other + " has no delivery " + failed);
    assertProblem(resend("bridge", bridgeId, 999_999_999L), 404, "has no delivery 999999999");
    assertProblem(resend("bridge", bridgeId, "abc"), 400, "path parameter 'delivery_id' must be a delivery id");
    assertProblem(resend("bridge", "brg_nope", failed), 404, "no bridge brg_nope");

    assertProblem(node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries?status=lost"), null), 400,
        "query parameter 'status' must be one of pending, delivered, failed, cancelled");
    assertProblem(node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries?since=today"), null), 400,
        "query parameter 'since' must be an ISO-8601 date-time");
    assertProblem(node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries?cursor=-4"), null), 400,
        "query parameter 'cursor'");
    assertThat(audits(bridgeId, "bridge.delivery_resent")).isZero();
  }

  /**
   * A webhook subscription fails a delivery for good after its whole schedule (7 retries over 31
   * hours); paused at its queue limit it takes no replay, as it takes no new event; resumed, it does.
   */
  @Test
  void aPausedWebhookAtItsQueueLimitTakesNoReplayAndAResumedOneDeliversIt() {
    String hook = "/replay-hook-" + paths.incrementAndGet();
    AtomicInteger failures = new AtomicInteger(8);
    sink.answer(hook, r -> failures.getAndDecrement() > 0 ? Answer.status(500) : Answer.status(200));
    JsonObject body = new JsonObject().put("name", "replay").put("url", sink.url(hook)).put("events", new JsonArray().add("FILE_ACCESS"))
        .put("queue_limit", 1);
    String webhookId = node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks"), body).bodyAsJsonObject().getString("webhook_id");
    Instant since = node.clock.instant();
    String lost = publish("file.read");
    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS).until(() -> {
      if ("failed".equals(node.queryValue("SELECT status FROM deliveries WHERE target_id = $1", webhookId))) {
        return true;
      }
      node.awaitDeliveriesQuiet();
      node.clock.advance(Duration.ofHours(1));
      return false;
    });
    assertThat(sink.received(hook)).hasSize(8);
    long failed = (Long) node.queryValue("SELECT id FROM deliveries WHERE target_id = $1", webhookId);

    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/pause"), null);
    String queued = publish("file.write");
    assertProblem(resend("webhook", webhookId, failed), 409, "queue is at its limit");
    JsonObject none = recover("webhook", webhookId, window(since, null)).bodyAsJsonObject();
    assertThat(none.getInteger("recovered")).isZero();
    assertThat(none.getLong("remaining")).isEqualTo(1L);

    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/resume"), null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(hook).size() == 1);
    HttpResponse<Buffer> resent = resend("webhook", webhookId, "dlv_" + failed);
    assertThat(resent.statusCode()).as(resent.bodyAsString()).isEqualTo(202);
    assertThat(resent.bodyAsJsonObject().getString("webhook_id")).isEqualTo(webhookId);

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(hook).size() == 2);
    assertThat(sink.delivered(hook)).containsExactly(queued, lost);
    assertThat(sink.answeredOk(hook).get(1).headers().get("X-ScaiDrive-Delivery-Id"))
        .isEqualTo("dlv_" + resent.bodyAsJsonObject().getLong("delivery_id"));
    assertThat(audits(webhookId, "webhook.delivery_resent")).isEqualTo(1L);
    assertThat(recover("webhook", webhookId, window(since, null)).bodyAsJsonObject().getInteger("recovered"))
        .as("a resent failure is not recovered again").isZero();
  }

  private String publish(String action) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/events"),
        new JsonObject().put("category", "FILE_ACCESS").put("action", action).put("user_id", "u1").put("resource_id", "r1"));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }
}
