package com.scairelay.transport.slack;

import com.scairelay.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Slack tests share: a node pointed at a {@link FakeSlack}, a workspace with its bot, Slack
 * bridges, and Slack's Events API requests signed the way Slack signs them (computed here, apart from
 * the connector).
 */
final class SlackTestBridges {
  static final String TEAM = "T0TEAM01";
  static final String TOKEN = "xoxb-1111-2222-relaytoken";
  static final String BOT_USER = "U0RELAYBOT";
  static final String BOT_ID = "B0RELAYBOT";
  static final String SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

  private SlackTestBridges() {
  }

  /** The node settings for Slack at {@code slack}, with what a test adds. */
  static Map<String, String> env(FakeSlack slack, Map<String, String> more) {
    Map<String, String> env = new HashMap<>(Map.of(
        "RELAY_SLACK_API_URL", slack.apiUrl(),
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50",
        "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1000",
        "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "1500"));
    env.putAll(more);
    return env;
  }

  static void installWorkspace(FakeSlack slack) {
    slack.install(TOKEN, new FakeSlack.Install(TEAM, "Acme", BOT_USER, BOT_ID));
  }

  static JsonObject slackBridge(String roomId, String direction, String channel) {
    return new JsonObject().put("transport", "slack").put("direction", direction).put("room_id", roomId).put("name", "slack " + channel)
        .put("slack_team_id", TEAM).put("slack_channel_id", channel)
        .put("slack_signing_secret", SIGNING_SECRET).put("slack_bot_token", TOKEN);
  }

  static HttpResponse<Buffer> create(TestNode node, JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
  }

  /** A bridge that must be created; its answer. */
  static JsonObject created(TestNode node, JsonObject body) {
    HttpResponse<Buffer> response = create(node, body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  /** {@code v0=<hex>} of HMAC-SHA256(signing secret, "v0:<ts>:<body>"). */
  static String sign(String secret, long timestamp, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "v0=" + HexFormat.of().formatHex(mac.doFinal(("v0:" + timestamp + ":" + body).getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Posts {@code envelope} to the bridge's Events API URL as Slack would, signed at the node's time. */
  static HttpResponse<Buffer> event(TestNode node, String bridgeId, JsonObject envelope) {
    return event(node, bridgeId, envelope, Map.of());
  }

  static HttpResponse<Buffer> event(TestNode node, String bridgeId, JsonObject envelope, Map<String, String> headers) {
    return eventAsync(node, bridgeId, envelope, headers).await();
  }

  static Future<HttpResponse<Buffer>> eventAsync(TestNode node, String bridgeId, JsonObject envelope, Map<String, String> headers) {
    String body = envelope.encode();
    long now = node.clock.instant().getEpochSecond();
    Map<String, String> all = new HashMap<>(Map.of(
        "X-Slack-Request-Timestamp", Long.toString(now),
        "X-Slack-Signature", sign(SIGNING_SECRET, now, body)));
    all.putAll(headers);
    return rawAsync(node, bridgeId, body, all);
  }

  static HttpResponse<Buffer> raw(TestNode node, String bridgeId, String body, Map<String, String> headers) {
    return rawAsync(node, bridgeId, body, headers).await();
  }

  private static Future<HttpResponse<Buffer>> rawAsync(TestNode node, String bridgeId, String body, Map<String, String> headers) {
    HttpRequest<Buffer> request = node.request(HttpMethod.POST, "/v1/bridges/" + bridgeId + "/slack/events")
        .putHeader("Content-Type", "application/json");
    headers.forEach(request::putHeader);
    return request.sendBuffer(Buffer.buffer(body));
  }

  /** An {@code event_callback} envelope of the bridged team. */
  static JsonObject envelope(String eventId, JsonObject event) {
    return new JsonObject().put("token", "XXYYZZ").put("team_id", TEAM).put("api_app_id", "A0RELAYAPP").put("event", event)
        .put("type", "event_callback").put("event_id", eventId).put("event_time", 1_700_000_000)
        .put("authorizations", new JsonArray().add(new JsonObject().put("team_id", TEAM).put("user_id", BOT_USER).put("is_bot", true)));
  }

  /** A {@code message} event as Slack sends it for a person's message. */
  static JsonObject message(String channel, String user, String text, String ts) {
    return new JsonObject().put("type", "message").put("channel", channel).put("user", user).put("text", text).put("ts", ts)
        .put("event_ts", ts).put("channel_type", "channel").put("client_msg_id", "m-" + ts);
  }

  /** A native message into {@code roomId}; its event id. */
  static String say(TestNode node, String roomId, String sender, String displayName, JsonObject content) {
    JsonObject body = new JsonObject().put("sender", sender).put("display_name", displayName).put("content", content);
    return say(node, roomId, body);
  }

  static String say(TestNode node, String roomId, JsonObject body) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  static JsonObject text(String body) {
    return new JsonObject().put("msgtype", "swp.text").put("body", body);
  }

  /** The bridge's deliveries, newest first, with their attempts. */
  static JsonArray deliveries(TestNode node, String bridgeId) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries"), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getJsonArray("deliveries");
  }

  /** The delivery of {@code eventId} on {@code bridgeId}. */
  static JsonObject delivery(TestNode node, String bridgeId, String eventId) {
    return deliveries(node, bridgeId).stream().map(JsonObject.class::cast).filter(d -> eventId.equals(d.getString("event_id")))
        .findFirst().orElseThrow(() -> new AssertionError("no delivery of " + eventId + " on " + bridgeId));
  }

  static String status(TestNode node, String bridgeId, String eventId) {
    return delivery(node, bridgeId, eventId).getString("status");
  }
}
