package com.scairelay.bridges;

import com.scairelay.support.TestNode;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The bridges admin API of DESIGN.md §3. */
class BridgeAdminTest {
  static TestNode node;
  String roomId;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @BeforeEach
  void room() {
    roomId = node.createRoom("admin").getString("room_id");
  }

  private HttpResponse<Buffer> create(JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
  }

  private JsonObject valid() {
    return new JsonObject().put("transport", "custom").put("direction", "both").put("room_id", roomId)
        .put("name", "acme").put("outbound_webhook", "http://127.0.0.1:9/hook");
  }

  private HttpResponse<Buffer> get(String bridgeId) {
    return node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId), null);
  }

  @Test
  void createReturnsTheSecretOnceAndNeverAgain() {
    HttpResponse<Buffer> created = create(valid());

    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject body = created.bodyAsJsonObject();
    String id = body.getString("bridge_id");
    assertThat(body.getString("shared_secret")).startsWith("srb_").hasSizeGreaterThan(40);
    assertThat(body.getString("direction")).isEqualTo("both");
    assertThat(body.getString("outbound_webhook")).isEqualTo("http://127.0.0.1:9/hook");

    String one = get(id).bodyAsString();
    String list = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges"), null).bodyAsString();
    assertThat(one).contains(id).doesNotContain(body.getString("shared_secret")).doesNotContain("secret\"");
    assertThat(list).contains(id).doesNotContain(body.getString("shared_secret"));
  }

  @Test
  void secretIsEncryptedAtRest() {
    String secret = create(valid()).bodyAsJsonObject().getString("shared_secret");
    Object stored = node.queryValue("SELECT encode(secret_enc, 'escape') FROM bridges ORDER BY created_at DESC LIMIT 1");
    assertThat(stored.toString()).doesNotContain(secret);
  }

  @Test
  void validationErrorsNameTheField() {
    assertField(valid().put("transport", "carrier-pigeon"), "'transport'");
    assertField(valid().put("transport", "slack"), "'slack_team_id'"); // a Slack bridge needs its Slack fields
    assertField(valid().put("direction", "sideways"), "'direction'");
    assertField(valid().put("room_id", "room_missing"), "'room_id'");
    assertField(valid().putNull("name"), "'name'");
    assertField(valid().putNull("outbound_webhook"), "'outbound_webhook'");
    assertField(valid().put("outbound_webhook", "ftp://x"), "'outbound_webhook'");
    assertField(valid().put("name", 42), "'name'");
  }

  private void assertField(JsonObject body, String field) {
    HttpResponse<Buffer> response = create(body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(field);
  }

  @Test
  void maxInFlightIsOneUnlessSetPerBridge() {
    assertThat(create(valid()).bodyAsJsonObject().getInteger("max_in_flight")).isEqualTo(1);
    assertThat(create(valid().put("max_in_flight", 8)).bodyAsJsonObject().getInteger("max_in_flight")).isEqualTo(8);
    assertField(valid().put("max_in_flight", 0), "'max_in_flight'");
    assertField(valid().put("max_in_flight", "many"), "'max_in_flight'");
  }

  @Test
  void inboundOnlyBridgeNeedsNoWebhook() {
    HttpResponse<Buffer> response = create(valid().put("direction", "inbound").putNull("outbound_webhook"));
    assertThat(response.statusCode()).isEqualTo(201);
  }

  @Test
  void adminCallsWithoutAValidTokenAre401() {
    HttpResponse<Buffer> none = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges"), null);
    HttpResponse<Buffer> wrong = node.send(node.request(HttpMethod.POST, "/v1/admin/bridges")
        .putHeader("Authorization", "Bearer not-the-token"), valid());
    HttpResponse<Buffer> basic = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges")
        .putHeader("Authorization", "Basic " + TestNode.ADMIN_TOKEN), null);
    for (HttpResponse<Buffer> response : new HttpResponse[] {none, wrong, basic}) {
      assertThat(response.statusCode()).isEqualTo(401);
      assertThat(response.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
      assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    }
    assertThat(node.queryValue("SELECT count(*) FROM bridges WHERE room_id = $1", roomId)).isEqualTo(0L);
  }

  @Test
  void pauseResumeRotateDeleteAreAuditedAdminActions() {
    String id = create(valid()).bodyAsJsonObject().getString("bridge_id");

    JsonObject paused = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + id + "/pause"), null).bodyAsJsonObject();
    assertThat(paused.getBoolean("paused")).isTrue();
    JsonObject resumed = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + id + "/resume"), null).bodyAsJsonObject();
    assertThat(resumed.getBoolean("paused")).isFalse();
    HttpResponse<Buffer> rotated = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + id + "/rotate-secret"), null);
    assertThat(rotated.statusCode()).isEqualTo(200);
    assertThat(rotated.bodyAsJsonObject().getString("previous_secret_expires_at"))
        .isEqualTo(node.clock.instant().plus(Duration.ofMinutes(5)).toString());
    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + id), null).statusCode()).isEqualTo(204);

    JsonArray audit = node.send(node.admin(HttpMethod.GET, "/v1/admin/audit?category=ADMIN&limit=1000"), null)
        .bodyAsJsonObject().getJsonArray("events");
    assertThat(audit.stream().map(JsonObject.class::cast).filter(e -> id.equals(e.getString("resource_id")))
        .map(e -> e.getString("action") + "/" + e.getString("user_id")))
        .containsExactly("bridge.created/admin", "bridge.paused/admin", "bridge.resumed/admin",
            "bridge.secret_rotated/admin", "bridge.deleted/admin");
  }

  @Test
  void deletedBridgeIsGoneButItsHistoryStays() {
    JsonObject bridge = create(valid()).bodyAsJsonObject();
    String id = bridge.getString("bridge_id");
    node.postInbound(id, bridge.getString("shared_secret"), TestNode.message("h-1", "U1", "kept")).await();

    node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + id), null);

    assertThat(get(id).statusCode()).isEqualTo(404);
    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + id), null).statusCode()).isEqualTo(404);
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + id + "/pause"), null).statusCode()).isEqualTo(404);
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE origin_bridge_id = $1", id)).isEqualTo(1L);
    assertThat(node.queryValue("SELECT count(*) FROM participants WHERE bridge_id = $1", id)).isEqualTo(1L);
  }

  @Test
  void countersShowWhatCameIn() {
    JsonObject bridge = create(valid()).bodyAsJsonObject();
    String id = bridge.getString("bridge_id");
    String secret = bridge.getString("shared_secret");
    node.postInbound(id, secret, TestNode.message("c-1", "U1", "a")).await();
    node.postInbound(id, secret, TestNode.message("c-1", "U1", "a")).await();
    node.postInbound(id, "wrong", TestNode.message("c-2", "U1", "a")).await();

    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
      JsonObject counters = get(id).bodyAsJsonObject().getJsonObject("counters");
      assertThat(counters.getLong("inbound_accepted")).isEqualTo(1L);
      assertThat(counters.getLong("inbound_duplicates")).isEqualTo(1L);
      assertThat(counters.getLong("inbound_signature_failures")).isEqualTo(1L);
      assertThat(counters.getString("last_inbound_at")).isNotNull();
    });
  }

  @Test
  void unknownBridgeIs404() {
    assertThat(get("brg_unknown").statusCode()).isEqualTo(404);
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/brg_unknown/rotate-secret"), null).statusCode()).isEqualTo(404);
  }
}
