package com.scairelay.ingress;

import com.scairelay.transport.SignatureScheme;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every row of the inbound table in DESIGN.md §3, against a real node and PostgreSQL. */
class InboundTest {
  static TestNode node;
  String roomId;
  String bridgeId;
  String secret;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_HTTP_MAX_BODY_BYTES", "4096", "RELAY_INBOUND_SIGNATURE_FAILURE_AUDITS_PER_MINUTE", "10"));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @BeforeEach
  void bridge() {
    roomId = node.createRoom("inbound").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "both");
    bridgeId = bridge.getString("bridge_id");
    secret = bridge.getString("shared_secret");
  }

  private HttpResponse<Buffer> post(JsonObject body) {
    return node.postInbound(bridgeId, secret, body).await();
  }

  private HttpResponse<Buffer> postSigned(JsonObject body, String header) {
    return node.postInboundRaw(bridgeId, body.toBuffer(), header).await();
  }

  private static void assertProblem(HttpResponse<Buffer> response, int status, String detailPart) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detailPart);
  }

  @Test
  void goodWebhookIsAcknowledgedAfterCommitAndSentByAShadowParticipant() {
    HttpResponse<Buffer> response = post(TestNode.message("f-1", "U12345", "Hello")
        .put("sender", new JsonObject().put("external_id", "U12345").put("display_name", "Alice").put("avatar_url", "https://example.org/a.png")));

    assertThat(response.statusCode()).isEqualTo(202);
    String eventId = response.bodyAsJsonObject().getString("event_id");
    assertThat(response.bodyAsJsonObject().getBoolean("duplicate")).isFalse();

    JsonObject event = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events"), null)
        .bodyAsJsonObject().getJsonArray("events").getJsonObject(0);
    assertThat(event.getString("event_id")).isEqualTo(eventId);
    assertThat(event.getString("origin_bridge_id")).isEqualTo(bridgeId);
    assertThat(event.getJsonObject("content").getString("body")).isEqualTo("Hello");
    assertThat(event.getJsonObject("content").getJsonObject("_imported_sender").getString("external_id")).isEqualTo("U12345");
    assertThat(event.getJsonObject("content").getJsonObject("_imported_sender").getString("display_name")).isEqualTo("Alice");

    JsonArray participants = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/participants"), null)
        .bodyAsJsonObject().getJsonArray("participants");
    assertThat(participants).hasSize(1);
    JsonObject shadow = participants.getJsonObject(0);
    assertThat(shadow.getString("kind")).isEqualTo("shadow");
    assertThat(shadow.getString("bridge_id")).isEqualTo(bridgeId);
    assertThat(shadow.getString("external_id")).isEqualTo("U12345");
    assertThat(shadow.getString("avatar_url")).isEqualTo("https://example.org/a.png");
    assertThat(event.getJsonObject("sender").getString("id")).isEqualTo(shadow.getString("id"));
  }

  @Test
  void sameEventIdWithinTenMinutesAnswersTheFirstEvent() {
    String first = post(TestNode.message("f-dup", "U1", "once")).bodyAsJsonObject().getString("event_id");
    node.clock.advance(Duration.ofMinutes(9));

    HttpResponse<Buffer> again = post(TestNode.message("f-dup", "U1", "once"));

    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.bodyAsJsonObject().getString("event_id")).isEqualTo(first);
    assertThat(again.bodyAsJsonObject().getBoolean("duplicate")).isTrue();
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE origin_bridge_id = $1", bridgeId)).isEqualTo(1L);
  }

  @Test
  void sameEventIdAfterTheWindowIsANewEvent() {
    String first = post(TestNode.message("f-late", "U1", "once")).bodyAsJsonObject().getString("event_id");
    node.clock.advance(Duration.ofMinutes(10).plusSeconds(1));

    HttpResponse<Buffer> again = post(TestNode.message("f-late", "U1", "twice"));

    assertThat(again.statusCode()).isEqualTo(202);
    assertThat(again.bodyAsJsonObject().getString("event_id")).isNotEqualTo(first);
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE origin_bridge_id = $1", bridgeId)).isEqualTo(2L);
  }

  @Test
  void dedupeRecordsOlderThanTheWindowArePruned() {
    post(TestNode.message("f-prune", "U1", "x"));
    node.clock.advance(Duration.ofMinutes(10).plusSeconds(1));

    node.node.pruneDedupe().await();

    assertThat(node.queryValue("SELECT count(*) FROM inbound_dedupe WHERE bridge_id = $1", bridgeId)).isEqualTo(0L);
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE origin_bridge_id = $1", bridgeId)).isEqualTo(1L);
  }

  @Test
  void missingSignatureIs401AndAudited() {
    assertProblem(postSigned(TestNode.message("s-1", "U1", "x"), null), 401, "missing");
    assertThat(signatureFailureAudits()).isEqualTo(1L);
  }

  @Test
  void malformedSignatureIs401() {
    assertProblem(postSigned(TestNode.message("s-2", "U1", "x"), "v1=abc"), 401, "header");
    assertProblem(postSigned(TestNode.message("s-2", "U1", "x"), "garbage"), 401, "malformed");
    assertProblem(postSigned(TestNode.message("s-2", "U1", "x"), "t=12x,v1=" + "a".repeat(64)), 401, "t=");
    assertThat(signatureFailureAudits()).isEqualTo(3L);
  }

  @Test
  void wrongSignatureIs401() {
    JsonObject body = TestNode.message("s-3", "U1", "x");
    String header = SignatureScheme.header("not-the-secret", node.clock.instant().getEpochSecond(), body.toBuffer());
    assertProblem(postSigned(body, header), 401, "no v1 signature matches");
    JsonObject audit = node.send(node.admin(HttpMethod.GET, "/v1/admin/audit?action=bridge.inbound_signature_failed"), null)
        .bodyAsJsonObject().getJsonArray("events").stream().map(JsonObject.class::cast)
        .filter(e -> bridgeId.equals(e.getString("resource_id"))).findFirst().orElseThrow();
    assertThat(audit.getString("category")).isEqualTo("SECURITY");
  }

  @Test
  void signatureOverAnotherBodyIs401() {
    JsonObject signed = TestNode.message("s-4", "U1", "what was signed");
    String header = SignatureScheme.header(secret, node.clock.instant().getEpochSecond(), signed.toBuffer());
    assertProblem(postSigned(TestNode.message("s-4", "U1", "what was sent"), header), 401, "no v1 signature matches");
  }

  @Test
  void timestampOutsideThreeHundredSecondsIs401() {
    JsonObject body = TestNode.message("s-5", "U1", "x");
    long now = node.clock.instant().getEpochSecond();
    assertProblem(postSigned(body, SignatureScheme.header(secret, now - 301, body.toBuffer())), 401, "300 s");
    assertProblem(postSigned(body, SignatureScheme.header(secret, now + 301, body.toBuffer())), 401, "300 s");
    assertThat(postSigned(body, SignatureScheme.header(secret, now - 299, body.toBuffer())).statusCode()).isEqualTo(202);
  }

  @Test
  void anyOfSeveralV1SignaturesPasses() {
    JsonObject body = TestNode.message("s-6", "U1", "x");
    String good = SignatureScheme.header(secret, node.clock.instant().getEpochSecond(), body.toBuffer());
    String header = good.replace(",v1=", ",v1=" + "0".repeat(64) + ",v0=ignored,v1=");
    assertThat(postSigned(body, header).statusCode()).isEqualTo(202);
  }

  @Test
  void unknownBridgeIs404() {
    HttpResponse<Buffer> response = node.postInbound("brg_nope", secret, TestNode.message("u-1", "U1", "x")).await();
    assertProblem(response, 404, "no bridge brg_nope");
  }

  @Test
  void deletedBridgeIs404() {
    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + bridgeId), null).statusCode()).isEqualTo(204);
    assertProblem(post(TestNode.message("d-1", "U1", "x")), 404, "no bridge");
  }

  @Test
  void outboundOnlyBridgeIs403() {
    JsonObject outbound = node.createBridge(roomId, "outbound");
    HttpResponse<Buffer> response = node.postInbound(outbound.getString("bridge_id"), outbound.getString("shared_secret"),
        TestNode.message("o-1", "U1", "x")).await();
    assertProblem(response, 403, "outbound-only");
  }

  @Test
  void pausedBridgeAnswers503WithRetryAfterAndKeepsNothing() {
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/pause"), null);

    HttpResponse<Buffer> paused = post(TestNode.message("p-1", "U1", "x"));

    assertProblem(paused, 503, "paused");
    assertThat(paused.getHeader("Retry-After")).isEqualTo("30");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/resume"), null);
    assertThat(post(TestNode.message("p-1", "U1", "x")).statusCode()).isEqualTo(202);
  }

  @Test
  void badJsonIs400() {
    Buffer raw = Buffer.buffer("{\"event_id\": ");
    String header = SignatureScheme.header(secret, node.clock.instant().getEpochSecond(), raw);
    assertProblem(node.postInboundRaw(bridgeId, raw, header).await(), 400, "not valid JSON");
  }

  @Test
  void missingFieldsAre400NamingTheField() {
    JsonObject noEventId = TestNode.message("x", "U1", "x");
    noEventId.remove("event_id");
    assertProblem(post(noEventId), 400, "'event_id'");
    JsonObject noSender = TestNode.message("m-1", "U1", "x");
    noSender.getJsonObject("sender").remove("external_id");
    assertProblem(post(noSender), 400, "'sender.external_id'");
    assertProblem(post(TestNode.message("m-2", "U1", "x").put("content", "text")), 400, "'content'");
    JsonObject noType = TestNode.message("m-3", "U1", "x");
    noType.getJsonObject("content").remove("msgtype");
    assertProblem(post(noType), 400, "'content.msgtype'");
    assertProblem(post(TestNode.message("m-4", "U1", "x").put("thread_id", 7)), 400, "'thread_id'");
  }

  @Test
  void bodyOverTheLimitIs413() {
    HttpResponse<Buffer> response = post(TestNode.message("big", "U1", "x".repeat(5000)));
    assertProblem(response, 413, "http.max_body_bytes");
  }

  @Test
  void oldSecretKeepsVerifyingForFiveMinutesAfterRotation() {
    JsonObject rotated = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/rotate-secret"), null).bodyAsJsonObject();
    String newSecret = rotated.getString("shared_secret");
    assertThat(newSecret).isNotEqualTo(secret);

    node.clock.advance(Duration.ofMinutes(4).plusSeconds(59));
    assertThat(node.postInbound(bridgeId, secret, TestNode.message("r-1", "U1", "old")).await().statusCode()).isEqualTo(202);
    assertThat(node.postInbound(bridgeId, newSecret, TestNode.message("r-2", "U1", "new")).await().statusCode()).isEqualTo(202);

    node.clock.advance(Duration.ofSeconds(2));
    assertProblem(node.postInbound(bridgeId, secret, TestNode.message("r-3", "U1", "old")).await(), 401, "no v1 signature matches");
    assertThat(node.postInbound(bridgeId, newSecret, TestNode.message("r-4", "U1", "new")).await().statusCode()).isEqualTo(202);
  }

  @Test
  void oneShadowPerSenderWithNameAndAvatarKeptCurrent() {
    post(TestNode.message("n-1", "U7", "a").put("sender", new JsonObject().put("external_id", "U7").put("display_name", "Old").put("avatar_url", "https://a/1")));
    post(TestNode.message("n-2", "U7", "b").put("sender", new JsonObject().put("external_id", "U7").put("display_name", "New")));
    post(TestNode.message("n-3", "U8", "c"));

    JsonArray participants = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/participants"), null)
        .bodyAsJsonObject().getJsonArray("participants");
    assertThat(participants).hasSize(2);
    JsonObject u7 = participants.stream().map(JsonObject.class::cast).filter(p -> "U7".equals(p.getString("external_id"))).findFirst().orElseThrow();
    assertThat(u7.getString("display_name")).isEqualTo("New");
    assertThat(u7.getString("avatar_url")).isEqualTo("https://a/1");
  }

  @Test
  void replyToAnExternalIdTheBridgeHasSeenPointsAtOurEvent() {
    String parent = post(TestNode.message("t-parent", "U1", "question")).bodyAsJsonObject().getString("event_id");
    post(TestNode.message("t-reply", "U2", "answer").put("reply_to_external_id", "t-parent").put("thread_id", "t-parent"));
    post(TestNode.message("t-orphan", "U2", "?").put("reply_to_external_id", "never-seen").put("thread_id", "foreign-thread"));

    JsonArray events = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events"), null)
        .bodyAsJsonObject().getJsonArray("events");
    JsonObject reply = events.getJsonObject(1);
    assertThat(reply.getString("reply_to")).isEqualTo(parent);
    assertThat(reply.getString("thread_id")).isEqualTo(parent);
    JsonObject orphan = events.getJsonObject(2);
    assertThat(orphan.getString("reply_to")).isNull();
    assertThat(orphan.getString("thread_id")).isEqualTo("foreign-thread");
    assertThat(node.queryValue("SELECT reply_to_external_id FROM events WHERE id = $1", orphan.getString("event_id"))).isEqualTo("never-seen");
  }

  @Test
  void aFloodOfBadSignaturesWritesABoundedAuditTrailThatCountsWhatItLeftOut() {
    node.clock.advance(Duration.ofSeconds(60 - node.clock.instant().getEpochSecond() % 60));
    for (int i = 0; i < 25; i++) {
      assertThat(postSigned(TestNode.message("flood-" + i, "U1", "x"), "t=1,v1=" + "0".repeat(64)).statusCode()).isEqualTo(401);
    }
    assertThat(signatureFailureAudits()).isEqualTo(10L);

    node.clock.advance(Duration.ofMinutes(1));
    postSigned(TestNode.message("flood-next", "U1", "x"), null);

    assertThat(signatureFailureAudits()).isEqualTo(11L);
    Object leftOut = node.queryValue("""
        SELECT payload->>'not_recorded_before_this' FROM audit_events
        WHERE resource_id = $1 AND action = 'bridge.inbound_signature_failed' ORDER BY seq DESC LIMIT 1""", bridgeId);
    assertThat(leftOut).isEqualTo("15");
  }

  private long signatureFailureAudits() {
    return (Long) node.queryValue(
        "SELECT count(*) FROM audit_events WHERE resource_id = $1 AND category = 'SECURITY' AND action = 'bridge.inbound_signature_failed'", bridgeId);
  }
}
