package com.scairelay.transport.teams;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/bridges/{id}/teams/messages} as a Teams outgoing webhook calls it: the activity
 * Teams posts when the webhook is @mentioned, signed {@code Authorization: HMAC <base64>} with the
 * security token the way Microsoft's sample computes it, answered with a message activity.
 */
class TeamsInboundTest {
  static final String CHANNEL = "19:2f8c7e1d9a4b4c3e8f0a1b2c3d4e5f60@thread.tacv2";
  static final String BOT_ID = "28:7b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
  static TestNode node;
  static final AtomicLong ids = new AtomicLong(1_700_000_000_000L);

  String roomId;
  String bridgeId;
  String token;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @BeforeEach
  void bridge() {
    roomId = node.createRoom("teams in").getString("room_id");
    token = TeamsOutboundTest.token();
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject()
        .put("transport", "teams").put("direction", "inbound").put("room_id", roomId).put("name", "teams in")
        .put("teams_outgoing_secret", token));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    bridgeId = created.bodyAsJsonObject().getString("bridge_id");
  }

  /** A message activity as an outgoing webhook posts it: "<at>Relay</at> " + text, in a new channel post. */
  JsonObject activity(String id, String text) {
    return new JsonObject()
        .put("type", "message")
        .put("id", id)
        .put("timestamp", node.clock.instant().toString())
        .put("serviceUrl", "https://smba.trafficmanager.net/emea/")
        .put("channelId", "msteams")
        .put("from", new JsonObject().put("id", "29:1a2b3c-alice").put("name", "Alice Example").put("aadObjectId", "5e6f7a8b"))
        .put("conversation", new JsonObject().put("isGroup", true).put("id", CHANNEL + ";messageid=" + id).put("conversationType", "channel"))
        .putNull("recipient")
        .put("textFormat", "plain")
        .put("text", "<at>Relay</at> " + text)
        .put("attachments", new JsonArray().add(new JsonObject().put("contentType", "text/html")
            .put("content", "<div><span itemscope=\"\" itemtype=\"http://schema.skype.com/Mention\" itemid=\"0\">Relay</span> " + text + "</div>")))
        .put("entities", new JsonArray()
            .add(new JsonObject().put("type", "clientInfo").put("locale", "en-US").put("platform", "Web"))
            .add(mention(BOT_ID, "Relay")))
        .put("channelData", new JsonObject().put("teamsChannelId", CHANNEL).put("teamsTeamId", "19:team@thread.tacv2")
            .put("tenant", new JsonObject().put("id", "72f988bf-0000-0000-0000-000000000000")));
  }

  static JsonObject mention(String id, String name) {
    return new JsonObject().put("type", "mention").put("mentioned", new JsonObject().put("id", id).put("name", name))
        .put("text", "<at>" + name + "</at>");
  }

  static String newId() {
    return Long.toString(ids.incrementAndGet());
  }

  /** The header Teams sends, made as Microsoft's sample does: HMACSHA256(Convert.FromBase64String(token)) over the body bytes. */
  static String hmacHeader(String base64Token, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(base64Token), "HmacSHA256"));
    return "HMAC " + Base64.getEncoder().encodeToString(mac.doFinal(body));
  }

  HttpResponse<Buffer> post(JsonObject activity) throws Exception {
    Buffer raw = activity.toBuffer();
    return postRaw(raw, hmacHeader(token, raw.getBytes()));
  }

  HttpResponse<Buffer> postRaw(Buffer raw, String authorization) {
    HttpRequest<Buffer> request = node.request(HttpMethod.POST, "/v1/bridges/" + bridgeId + "/teams/messages")
        .putHeader("Content-Type", "application/json; charset=utf-8");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return request.sendBuffer(raw).await();
  }

  List<JsonObject> events() {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events"), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getJsonArray("events").stream().map(JsonObject.class::cast).toList();
  }

  long signatureFailures() {
    return (Long) node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = 'bridge.inbound_signature_failed'",
        bridgeId);
  }

  @Test
  void aSignedMentionIsStoredAndAnsweredWithAMessageActivityWithinFiveSeconds() throws Exception {
    String id = newId();
    long started = System.nanoTime();
    HttpResponse<Buffer> answer = post(activity(id, "hello from Teams"));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
    assertThat(took).as("Teams gives up after 5 s").isLessThan(Duration.ofSeconds(5));
    assertThat(answer.getHeader("Content-Type")).startsWith("application/json");
    assertThat(answer.bodyAsJsonObject()).isEqualTo(new JsonObject().put("type", "message").put("text", TeamsInbound.RELAYED));

    List<JsonObject> events = events();
    assertThat(events).hasSize(1);
    JsonObject event = events.get(0);
    assertThat(event.getJsonObject("content").getString("msgtype")).isEqualTo("swp.text");
    assertThat(event.getJsonObject("content").getString("body")).isEqualTo("hello from Teams");
    assertThat(event.getJsonObject("sender").getString("fqid")).isEqualTo("@bridge_" + bridgeId.replace("_", "__") + ".29=3a1a2b3c-alice:relay.test");
    assertThat(event.getJsonObject("sender").getString("display_name")).isEqualTo("Alice Example");
    assertThat(event.getString("thread_id")).as("a new post starts no thread").isNull();
    assertThat(event.getJsonObject("content").getJsonObject("_imported_sender").getString("external_id")).isEqualTo("29:1a2b3c-alice");
  }

  @Test
  void aWrongMissingOrMalformedHmacIsRefused401AndAudited() throws Exception {
    Buffer raw = activity(newId(), "forged").toBuffer();
    String otherToken = TeamsOutboundTest.token();

    List<String> refused = List.of(
        hmacHeader(otherToken, raw.getBytes()),                         // signed with another token
        hmacHeader(token, "{\"type\":\"message\"}".getBytes()),           // a signature of another body
        hmacHeader(token, raw.getBytes()).replace("HMAC ", "Bearer "),  // another scheme
        "HMAC not-base64-at-all!!",
        "HMAC " + Base64.getEncoder().encodeToString(new byte[16]));    // base64, but no SHA-256
    for (String header : refused) {
      HttpResponse<Buffer> answer = postRaw(raw, header);
      assertThat(answer.statusCode()).as(header).isEqualTo(401);
    }
    HttpResponse<Buffer> missing = postRaw(raw, null);
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.bodyAsJsonObject().getString("detail")).contains("Authorization header is missing");
    assertThat(postRaw(raw, hmacHeader(otherToken, raw.getBytes())).bodyAsJsonObject().getString("detail"))
        .contains("does not match");

    assertThat(signatureFailures()).isEqualTo(refused.size() + 2);
    assertThat(events()).isEmpty();
    assertThat(postRaw(raw, hmacHeader(token, raw.getBytes())).statusCode()).as("the same body, signed right").isEqualTo(200);
    assertThat(events()).hasSize(1);
  }

  @Test
  void aRecordedActivityReplayedLaterIsRefused() throws Exception {
    JsonObject old = activity(newId(), "said an hour ago").put("timestamp", node.clock.instant().minus(Duration.ofHours(1)).toString());

    HttpResponse<Buffer> answer = post(old);

    assertThat(answer.statusCode()).isEqualTo(401);
    assertThat(answer.bodyAsJsonObject().getString("detail")).contains("timestamp");
    assertThat(events()).isEmpty();
  }

  @Test
  void theBotMentionIsStrippedOtherMentionsKeepTheirNameAndHtmlIsRemoved() throws Exception {
    JsonObject activity = activity(newId(), "")
        .put("text", "<at>Relay</at>&nbsp;Hi <at>Bob Smith</at>, see <b>this</b> &amp; that&nbsp;&lt;now&gt;<br>bye\n")
        .put("entities", new JsonArray().add(mention("29:bob", "Bob Smith")).add(mention(BOT_ID, "Relay")));

    assertThat(post(activity).statusCode()).isEqualTo(200);

    assertThat(events().get(0).getJsonObject("content").getString("body")).isEqualTo("Hi Bob Smith, see this & that <now>\nbye");
  }

  @Test
  void aMentionWithNothingElseIsAnsweredButNotStored() throws Exception {
    HttpResponse<Buffer> answer = post(activity(newId(), ""));

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.bodyAsJsonObject().getString("type")).isEqualTo("message");
    assertThat(answer.bodyAsJsonObject().getString("text")).startsWith("not relayed");
    assertThat(events()).isEmpty();
  }

  @Test
  void aReplyInAChannelThreadIsThreadedUnderItsRoot() throws Exception {
    String rootId = newId();
    assertThat(post(activity(rootId, "root post")).statusCode()).isEqualTo(200);
    String replyId = newId();
    JsonObject reply = activity(replyId, "a reply in the thread");
    reply.getJsonObject("conversation").put("id", CHANNEL + ";messageid=" + rootId);

    assertThat(post(reply).statusCode()).isEqualTo(200);

    List<JsonObject> events = events();
    assertThat(events).hasSize(2);
    JsonObject root = events.stream().filter(e -> e.getJsonObject("content").getString("body").equals("root post")).findFirst().orElseThrow();
    JsonObject threaded = events.stream().filter(e -> e.getJsonObject("content").getString("body").equals("a reply in the thread"))
        .findFirst().orElseThrow();
    assertThat(root.getString("thread_id")).isNull();
    assertThat(threaded.getString("thread_id")).as("the Teams root id resolves to our event").isEqualTo(root.getString("event_id"));
  }

  @Test
  void aRepeatedActivityIdIsStoredOnceAndAnsweredAlike() throws Exception {
    JsonObject activity = activity(newId(), "only once");

    HttpResponse<Buffer> first = post(activity);
    HttpResponse<Buffer> again = post(activity);

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(events()).hasSize(1);
    assertThat(node.queryValue("SELECT count(*) FROM inbound_dedupe WHERE bridge_id = $1", bridgeId)).isEqualTo(1L);
  }

  @Test
  void otherActivityTypesAreIgnoredWithAValidActivityReply() throws Exception {
    JsonObject update = activity(newId(), "ignored").put("type", "conversationUpdate");

    HttpResponse<Buffer> answer = post(update);

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.bodyAsJsonObject().getString("type")).isEqualTo("message");
    assertThat(answer.bodyAsJsonObject().getString("text")).isNotBlank();
    assertThat(events()).isEmpty();
  }

  /**
   * The order Teams imposes: the outgoing webhook needs its callback URL, which names the bridge, before
   * it shows the token the bridge is created with. So the bridge's id is chosen first.
   */
  @Test
  void aBridgeCreatedUnderAChosenIdReceivesAtTheCallbackUrlTeamsWasGiven() throws Exception {
    String chosen = "brg_teams_" + newId();
    String callbackPath = "/v1/bridges/" + chosen + "/teams/messages"; // pasted into Teams first
    String teamsToken = TeamsOutboundTest.token();                      // then Teams shows this
    JsonObject request = new JsonObject().put("bridge_id", chosen).put("transport", "teams").put("direction", "inbound")
        .put("room_id", roomId).put("name", "chosen").put("teams_outgoing_secret", teamsToken);

    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), request);

    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getString("bridge_id")).isEqualTo(chosen);
    Buffer raw = activity(newId(), "via the chosen id").toBuffer();
    HttpResponse<Buffer> answer = node.request(HttpMethod.POST, callbackPath).putHeader("Authorization", hmacHeader(teamsToken, raw.getBytes()))
        .sendBuffer(raw).await();
    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
    assertThat(events().get(0).getString("origin_bridge_id")).isEqualTo(chosen);

    HttpResponse<Buffer> again = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), request);
    assertThat(again.statusCode()).as("an id is never given twice").isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("detail")).contains("'bridge_id'");
    HttpResponse<Buffer> malformed = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), request.copy().put("bridge_id", "brg_x:y"));
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.bodyAsJsonObject().getString("detail")).contains("'bridge_id'");
  }

  @Test
  void aSignedActivityWithoutSenderIsA400NamingTheField() throws Exception {
    JsonObject activity = activity(newId(), "who?");
    activity.remove("from");

    HttpResponse<Buffer> answer = post(activity);

    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(answer.bodyAsJsonObject().getString("detail")).contains("'from'");
  }
}
