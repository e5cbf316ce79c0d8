package com.scairelay.transport.teams;

import com.scairelay.support.TestNode;
import com.scairelay.transport.teams.FakeWorkflows.Answer;
import com.scairelay.transport.teams.FakeWorkflows.Received;
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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transport {@code teams} outbound, against a Workflows trigger on loopback that answers as Microsoft's
 * does: the card it receives, pacing per URL, throttles (429 and a throttle said in a 200), a deleted
 * flow, edits and deletes, and what the admin API shows of the bridge.
 */
class TeamsOutboundTest {
  static final long PACE_MS = 100;
  static TestNode node;
  static FakeWorkflows workflows;
  static final AtomicInteger flows = new AtomicInteger();

  String roomId;
  JsonObject source;
  String flow;
  String teamsId;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of(
        "RELAY_TEAMS_PACE_MS", Long.toString(PACE_MS),
        "RELAY_DELIVERIES_BROKEN_HOLD_SECONDS", "60",
        "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "1000"));
    workflows = FakeWorkflows.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    workflows.close();
    node.close();
  }

  /** A room, a custom inbound bridge to post into it, and a Teams bridge posting to a flow of its own. */
  @BeforeEach
  void bridges() {
    roomId = node.createRoom("teams out").getString("room_id");
    source = node.createBridge(roomId, "inbound");
    flow = "flow-" + flows.incrementAndGet();
    HttpResponse<Buffer> created = createBridge(teamsBridge("outbound").put("teams_webhook_url", workflows.url(flow)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    teamsId = created.bodyAsJsonObject().getString("bridge_id");
  }

  private JsonObject teamsBridge(String direction) {
    return new JsonObject().put("transport", "teams").put("direction", direction).put("room_id", roomId).put("name", "teams");
  }

  private static HttpResponse<Buffer> createBridge(JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
  }

  private void say(String eventId, String text) {
    post(TestNode.message(eventId, "U1", text));
  }

  private void post(JsonObject message) {
    HttpResponse<Buffer> posted = node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), message).await();
    assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(202);
  }

  private static JsonObject withContent(String eventId, JsonObject content) {
    return TestNode.message(eventId, "U1", "unused").put("content", content);
  }

  private JsonArray deliveryLog() {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + teamsId + "/deliveries"), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getJsonArray("deliveries");
  }

  /** The delivery log's entry for the (only, or oldest) delivery. */
  private JsonObject oldestDelivery() {
    JsonArray log = deliveryLog();
    return log.getJsonObject(log.size() - 1);
  }

  private static void advanceUntil(Duration step, Callable<Boolean> done) {
    await().atMost(30, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
      if (done.call()) {
        return true;
      }
      node.clock.advance(step);
      return false;
    });
  }

  @Test
  void postsOneAdaptiveCardWithTheSenderNameAndTheText() {
    say("m-card", "hello teams");

    await().atMost(10, TimeUnit.SECONDS).until(() -> workflows.received(flow).size() == 1);
    Received request = workflows.received(flow).get(0);
    assertThat(request.json()).isEqualTo(new JsonObject("""
        {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
         "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",
          "body":[{"type":"TextBlock","text":"User U1","weight":"Bolder","wrap":true},
                  {"type":"TextBlock","text":"hello teams","wrap":true}]}}]}"""));
    assertThat(request.headers().get("Content-Type")).startsWith("application/json");
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(oldestDelivery().getString("status")));
    JsonObject attempt = oldestDelivery().getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("outcome")).isEqualTo("delivered");
    assertThat(attempt.getInteger("status_code")).as("Workflows answer 202 Accepted").isEqualTo(202);
    assertThat(workflows.received(flow)).hasSize(1);
  }

  @Test
  void messagesArePacedPerWorkflowUrlAndNoneIsDropped() {
    int n = 5;
    for (int i = 0; i < n; i++) {
      say("m-pace-" + i, "paced " + i);
    }

    await().atMost(20, TimeUnit.SECONDS).until(() -> workflows.received(flow).size() == n);
    List<Received> got = workflows.received(flow);
    assertThat(got.stream().map(Received::text).toList()).containsExactly("paced 0", "paced 1", "paced 2", "paced 3", "paced 4");
    for (int i = 1; i < n; i++) {
      long gapMs = (got.get(i).atNanos() - got.get(i - 1).atNanos()) / 1_000_000;
      assertThat(gapMs).as("gap before post " + i).isGreaterThanOrEqualTo(PACE_MS - 5);
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveryLog().stream().map(JsonObject.class::cast)
        .filter(d -> "delivered".equals(d.getString("status"))).count() == n);
  }

  @Test
  void a429WaitsItsRetryAfterThenDelivers() {
    workflows.script(flow, i -> i == 0 ? Answer.throttled(2) : Answer.accepted());
    say("m-429", "after the throttle");

    await().atMost(10, TimeUnit.SECONDS).until(() -> workflows.received(flow).size() == 1);
    await().atMost(10, TimeUnit.SECONDS).until(() -> oldestDelivery().getJsonArray("attempts").size() == 1);
    JsonObject first = oldestDelivery();
    assertThat(first.getString("status")).isEqualTo("pending");
    assertThat(first.getJsonArray("attempts").getJsonObject(0).getString("outcome")).isEqualTo("rate_limited");

    node.clock.advance(Duration.ofMillis(1500));
    node.awaitDeliveriesQuiet();
    assertThat(workflows.received(flow)).as("nothing is sent before Retry-After has passed").hasSize(1);

    node.clock.advance(Duration.ofMillis(1000));
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(oldestDelivery().getString("status")));
    assertThat(workflows.received(flow)).hasSize(2);
    assertThat(workflows.received(flow).get(1).text()).isEqualTo("after the throttle");
  }

  @Test
  void aThrottleReportedInA200BodyIsRateLimitedLikeA429() {
    workflows.script(flow, i -> i == 0 ? Answer.throttledInA200() : Answer.accepted());
    say("m-200-throttle", "said in a 200");

    await().atMost(10, TimeUnit.SECONDS).until(() -> oldestDelivery().getJsonArray("attempts").size() == 1);
    JsonObject attempt = oldestDelivery().getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("outcome")).as("a 200 that says 429 is not a delivery").isEqualTo("rate_limited");
    assertThat(attempt.getInteger("status_code")).isEqualTo(200);
    assertThat(attempt.getString("error")).contains("throttled", "429");
    assertThat(oldestDelivery().getString("status")).isEqualTo("pending");

    advanceUntil(Duration.ofSeconds(1), () -> "delivered".equals(oldestDelivery().getString("status")));
    assertThat(workflows.received(flow)).hasSize(2);
    assertThat(workflows.received(flow).get(1).text()).isEqualTo("said in a 200");
  }

  @Test
  void aDeletedWorkflowFailsTheDeliveryAlertsTheAdminAndParksTheQueue() {
    workflows.delete(flow);
    say("m-gone-1", "into the void");
    say("m-gone-2", "waits behind it");

    await().atMost(10, TimeUnit.SECONDS).until(() -> "failed".equals(oldestDelivery().getString("status")));
    JsonObject failed = oldestDelivery();
    assertThat(failed.getInteger("last_status_code")).isEqualTo(404);
    assertThat(failed.getString("last_error")).contains("no longer starts a workflow").doesNotContain(FakeWorkflows.sig(flow));
    await().atMost(10, TimeUnit.SECONDS).until(() -> audits("bridge.unreachable") == 1);
    assertThat(node.queryValue("SELECT category FROM audit_events WHERE resource_id = $1 AND action = 'bridge.unreachable'", teamsId))
        .isEqualTo("SECURITY");

    node.awaitDeliveriesQuiet();
    assertThat(workflows.received(flow)).as("the rest of the queue is parked, not sent to a dead URL").hasSize(1);

    node.clock.advance(Duration.ofSeconds(61));
    await().atMost(10, TimeUnit.SECONDS).until(() -> workflows.received(flow).size() == 2);
    assertThat(workflows.received(flow).get(1).text()).isEqualTo("waits behind it");
  }

  private long audits(String action) {
    return (Long) node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = $2", teamsId, action);
  }

  @Test
  void anEditIsPostedAsANewCardMarkedEdited() {
    say("m-orig", "teh original");
    post(withContent("m-edit", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", "ev_whatever").put("body", "the original")));

    await().atMost(10, TimeUnit.SECONDS).until(() -> workflows.received(flow).size() == 2);
    JsonArray blocks = workflows.received(flow).get(1).card().getJsonArray("body");
    assertThat(blocks).hasSize(3);
    assertThat(blocks.getJsonObject(0).getString("text")).isEqualTo("User U1");
    assertThat(blocks.getJsonObject(1).getString("text")).isEqualTo("the original");
    assertThat(blocks.getJsonObject(2).getString("text")).isEqualTo("(edited)");
    assertThat(workflows.received(flow).get(0).card().getJsonArray("body")).as("a plain message is not marked").hasSize(2);
  }

  @Test
  void aDeleteSendsNothingAndIsDeliveredWithANote() {
    post(withContent("m-del", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", "ev_whatever")));

    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(oldestDelivery().getString("status")));
    assertThat(oldestDelivery().getJsonArray("attempts").getJsonObject(0).getString("error")).isEqualTo(TeamsConnector.DELETE_NOTE);
    node.awaitDeliveriesQuiet();
    assertThat(workflows.received(flow)).isEmpty();
  }

  @Test
  void aTimeoutIsRetriedAndItsMessageDoesNotShowTheWorkflowSignature() {
    workflows.script(flow, i -> Answer.noAnswer());
    say("m-timeout", "no answer");

    await().atMost(10, TimeUnit.SECONDS).until(() -> oldestDelivery().getJsonArray("attempts").size() == 1);
    JsonObject attempt = oldestDelivery().getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("outcome")).isEqualTo("transient");
    assertThat(attempt.getString("error")).contains("timeout").doesNotContain(FakeWorkflows.sig(flow)).doesNotContain("/workflows/" + flow);
    assertThat(oldestDelivery().getString("last_error")).doesNotContain(FakeWorkflows.sig(flow));
  }

  @Test
  void theAdminApiShowsTheWorkflowOriginNeverItsUrl() {
    String sig = FakeWorkflows.sig(flow);
    HttpResponse<Buffer> one = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + teamsId), null);
    HttpResponse<Buffer> all = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges"), null);

    assertThat(one.bodyAsJsonObject().getString("teams_webhook_origin")).isEqualTo(workflows.origin());
    assertThat(one.bodyAsJsonObject().containsKey("teams_webhook_url")).isFalse();
    assertThat(one.bodyAsString()).doesNotContain(sig).doesNotContain("/workflows/");
    assertThat(all.bodyAsString()).contains(teamsId).doesNotContain(sig);
    assertThat(node.queryValue("SELECT count(*) FROM bridges WHERE id = $1 AND row_to_json(bridges)::text LIKE $2", teamsId, "%" + sig + "%"))
        .as("the URL is encrypted at rest").isEqualTo(0L);
  }

  @Test
  void anOutboundBridgeNeedsAWorkflowUrlTheGuardAccepts() {
    HttpResponse<Buffer> missing = createBridge(teamsBridge("outbound"));
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.bodyAsJsonObject().getString("detail")).contains("'teams_webhook_url'", "required");

    HttpResponse<Buffer> notHttp = createBridge(teamsBridge("both").put("teams_webhook_url", "ftp://example.com/workflows/x?sig=s3cr3t")
        .put("teams_outgoing_secret", token()));
    assertThat(notHttp.statusCode()).isEqualTo(400);
    assertThat(notHttp.bodyAsJsonObject().getString("detail")).contains("'teams_webhook_url'", "absolute http or https").doesNotContain("s3cr3t");

    HttpResponse<Buffer> relative = createBridge(teamsBridge("outbound").put("teams_webhook_url", "/workflows/x?sig=s3cr3t"));
    assertThat(relative.statusCode()).isEqualTo(400);
    assertThat(relative.bodyAsJsonObject().getString("detail")).contains("'teams_webhook_url'").doesNotContain("s3cr3t");

    HttpResponse<Buffer> metadata = createBridge(teamsBridge("outbound").put("teams_webhook_url", "http://169.254.169.254/workflows/x?sig=s3cr3t"));
    assertThat(metadata.statusCode()).isEqualTo(400);
    assertThat(metadata.bodyAsJsonObject().getString("detail")).contains("'teams_webhook_url' is refused", "169.254.169.254")
        .doesNotContain("s3cr3t");
  }

  @Test
  void anInboundBridgeNeedsTheBase64OutgoingWebhookToken() {
    HttpResponse<Buffer> missing = createBridge(teamsBridge("inbound"));
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.bodyAsJsonObject().getString("detail")).contains("'teams_outgoing_secret'", "required");

    HttpResponse<Buffer> notBase64 = createBridge(teamsBridge("inbound").put("teams_outgoing_secret", "not*base64*at-all!"));
    assertThat(notBase64.statusCode()).isEqualTo(400);
    assertThat(notBase64.bodyAsJsonObject().getString("detail")).contains("'teams_outgoing_secret'", "base64").doesNotContain("not*base64");

    HttpResponse<Buffer> tooShort = createBridge(teamsBridge("inbound").put("teams_outgoing_secret", "YWJj"));
    assertThat(tooShort.statusCode()).isEqualTo(400);
    assertThat(tooShort.bodyAsJsonObject().getString("detail")).contains("'teams_outgoing_secret'", "3 bytes");

    HttpResponse<Buffer> outboundOnly = createBridge(teamsBridge("outbound").put("teams_webhook_url", workflows.url("flow-x")));
    assertThat(outboundOnly.statusCode()).as("an outbound-only bridge needs no token").isEqualTo(201);
  }

  @Test
  void aBridgeBothWaysNeverShowsItsSecrets() {
    String token = token();
    HttpResponse<Buffer> created = createBridge(teamsBridge("both").put("teams_webhook_url", workflows.url("flow-both"))
        .put("teams_outgoing_secret", token));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String id = created.bodyAsJsonObject().getString("bridge_id");
    HttpResponse<Buffer> shown = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + id), null);

    for (HttpResponse<Buffer> response : List.of(created, shown)) {
      assertThat(response.bodyAsString()).doesNotContain(token).doesNotContain(FakeWorkflows.sig("flow-both"))
          .doesNotContain("teams_outgoing_secret").doesNotContain("teams_webhook_url");
    }
    assertThat(shown.bodyAsJsonObject().getString("direction")).isEqualTo("both");
  }

  /** An outgoing-webhook security token as Teams shows one: 32 random bytes, base64. */
  static String token() {
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }
}
