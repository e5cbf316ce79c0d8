package com.scairelay.transport.discord;

import com.scairelay.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Discord bridges, inbound: a node dials the fake Gateway of {@link DiscordGatewayTest} for each bot token of
 * a live inbound bridge, identifies with the message intents, and turns what Discord dispatches in the bridged
 * channel into room events (new messages, replies, edits, deletes), while another channel's messages, the
 * bridge's own webhook posts and its bot's messages come to nothing. A token Discord refuses for good raises the
 * admin alert and is not dialled again.
 */
class DiscordInboundTest {
  static Vertx fakes;
  static DiscordGatewayTest.FakeGateway gateway;
  static FakeDiscordApi api;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    fakes = Vertx.vertx();
    gateway = new DiscordGatewayTest.FakeGateway(fakes);
    gateway.heartbeatInterval = 60_000;
    gateway.listen(0);
    api = new FakeDiscordApi();
    node = TestNode.start(Map.of("RELAY_DISCORD_API_URL", api.apiUrl(), "RELAY_DISCORD_GATEWAY_URL", gateway.url()));
  }

  @AfterAll
  static void stop() {
    node.close();
    api.close();
    fakes.close().await();
  }

  @Test
  void messagesOfTheBridgedChannelBecomeRoomEventsAndEchoesDoNot() {
    FakeDiscordApi.Hook hook = api.addWebhook();
    String botId = api.snowflake();
    String token = api.addBot(botId, hook.channelId);
    String roomId = node.createRoom("discord in").getString("room_id");
    String bridgeId = createdBridge(new JsonObject().put("transport", "discord").put("direction", "both").put("room_id", roomId)
        .put("name", "discord both").put("discord_webhook_url", hook.url()).put("discord_bot_token", token));
    DiscordGatewayTest.FakeGateway.Connection discord = connectionOf(token);
    JsonObject identify = identifyOf(discord);
    assertThat(identify.getInteger("intents")).as("GUILD_MESSAGES | MESSAGE_CONTENT").isEqualTo((1 << 9) | (1 << 15));

    discord.dispatch("MESSAGE_CREATE", message("9001", hook.channelId, user("77", "ann", "Ann", "a_abc"), "hello from discord")
        .put("member", new JsonObject().put("nick", "Annie")).put("guild_id", hook.guildId));
    List<Row> events = awaitEvents(bridgeId, 1);
    Row hello = events.get(0);
    assertThat(new JsonObject(hello.getValue("content").toString()).getString("body")).isEqualTo("hello from discord");
    assertThat(hello.getString("external_id")).isEqualTo("9001");
    assertThat(hello.getString("sender_external_id")).isEqualTo("77");
    assertThat(hello.getString("display_name")).as("the server nickname first").isEqualTo("Annie");
    assertThat(hello.getString("avatar_url")).isEqualTo("https://cdn.discordapp.com/avatars/77/a_abc.gif");

    // Our own webhook's post of a room message, as Discord dispatches it back: an echo.
    postNative(roomId, "carol", "from the room");
    await().atMost(10, TimeUnit.SECONDS).until(() -> hook.messages.size() == 1);
    JsonObject posted = hook.messages.values().iterator().next().copy().put("guild_id", hook.guildId);
    discord.dispatch("MESSAGE_CREATE", posted);
    discord.dispatch("MESSAGE_CREATE", message("9002", hook.channelId, user(botId, "relay-bot", null, null), "the bot speaks"));
    discord.dispatch("MESSAGE_CREATE", message("9003", api.snowflake(), user("78", "bob", null, null), "another channel"));
    discord.dispatch("MESSAGE_CREATE", message("9004", hook.channelId, user("79", "sys", null, null), "").put("type", 7));
    discord.dispatch("MESSAGE_CREATE", message("9005", hook.channelId, user("78", "bob", null, "f00"), "a reply")
        .put("type", 19).put("message_reference", new JsonObject().put("message_id", "9001").put("channel_id", hook.channelId)));

    events = awaitEvents(bridgeId, 2);
    assertThat(events).as("the echo, the bot, the other channel and the join message came to nothing").hasSize(2);
    Row reply = events.get(1);
    assertThat(reply.getString("external_id")).isEqualTo("9005");
    assertThat(reply.getString("reply_to")).as("the reply names our event of the message it answers").isEqualTo(hello.getString("id"));
    assertThat(reply.getString("display_name")).isEqualTo("bob");
    assertThat(reply.getString("avatar_url")).isEqualTo("https://cdn.discordapp.com/avatars/78/f00.png");
  }

  @Test
  void aPostOfAnotherBridgesWebhookInTheSameChannelIsAnEchoToo() {
    // An outbound-only bridge and an inbound-only bridge of one room and one channel: what the first posts,
    // the second hears; relayed, it would come back out through the first, for ever.
    FakeDiscordApi.Hook hook = api.addWebhook();
    String token = api.addBot(api.snowflake(), hook.channelId);
    String roomId = node.createRoom("discord two bridges").getString("room_id");
    createdBridge(new JsonObject().put("transport", "discord").put("direction", "outbound").put("room_id", roomId)
        .put("name", "discord out").put("discord_webhook_url", hook.url()));
    String inboundId = createdBridge(new JsonObject().put("transport", "discord").put("direction", "inbound").put("room_id", roomId)
        .put("name", "discord in").put("discord_channel_id", hook.channelId).put("discord_bot_token", token));
    DiscordGatewayTest.FakeGateway.Connection discord = connectionOf(token);
    identifyOf(discord);

    postNative(roomId, "carol", "from the room");
    await().atMost(10, TimeUnit.SECONDS).until(() -> hook.messages.size() == 1);
    JsonObject posted = hook.messages.values().iterator().next().copy().put("guild_id", hook.guildId);
    discord.dispatch("MESSAGE_CREATE", posted);
    discord.dispatch("MESSAGE_CREATE", message("9301", hook.channelId, user("91", "eve", null, null), "sentinel"));

    List<Row> events = awaitEvents(inboundId, 1);
    assertThat(events).as("the other bridge's post came to nothing").hasSize(1);
    assertThat(new JsonObject(events.get(0).getValue("content").toString()).getString("body")).isEqualTo("sentinel");
  }

  @Test
  void editsAndDeletesOfABridgedMessageBecomeEditsAndDeletesOfItsEvent() {
    FakeDiscordApi.Hook hook = api.addWebhook();
    String token = api.addBot(api.snowflake(), hook.channelId);
    String roomId = node.createRoom("discord edits in").getString("room_id");
    String bridgeId = createdBridge(new JsonObject().put("transport", "discord").put("direction", "inbound").put("room_id", roomId)
        .put("name", "discord in").put("discord_channel_id", hook.channelId).put("discord_bot_token", token));
    DiscordGatewayTest.FakeGateway.Connection discord = connectionOf(token);
    identifyOf(discord);
    JsonObject original = message("9101", hook.channelId, user("81", "dee", "Dee", null), "teh typo");
    discord.dispatch("MESSAGE_CREATE", original);
    String originalEvent = awaitEvents(bridgeId, 1).get(0).getString("id");

    discord.dispatch("MESSAGE_UPDATE", original.copy().put("content", "teh typo").putNull("edited_timestamp")
        .put("embeds", new JsonArray().add(new JsonObject().put("type", "link"))));
    discord.dispatch("MESSAGE_UPDATE", original.copy().put("content", "the typo").put("edited_timestamp", "2026-12-01T10:00:00.000+00:00"));
    List<Row> events = awaitEvents(bridgeId, 2);
    assertThat(events).as("an embed Discord added is no edit").hasSize(2);
    JsonObject edit = new JsonObject(events.get(1).getValue("content").toString());
    assertThat(edit.getString("msgtype")).isEqualTo("swp.edit");
    assertThat(edit.getString("target_event_id")).isEqualTo(originalEvent);
    assertThat(edit.getString("body")).isEqualTo("the typo");

    discord.dispatch("MESSAGE_DELETE", new JsonObject().put("id", "unknown-9199").put("channel_id", hook.channelId));
    discord.dispatch("MESSAGE_DELETE", new JsonObject().put("id", "9101").put("channel_id", hook.channelId).put("guild_id", hook.guildId));
    events = awaitEvents(bridgeId, 3);
    JsonObject delete = new JsonObject(events.get(2).getValue("content").toString());
    assertThat(delete.getString("msgtype")).isEqualTo("swp.delete");
    assertThat(delete.getString("target_event_id")).isEqualTo(originalEvent);
    discord.dispatch("MESSAGE_CREATE", message("9102", hook.channelId, user("81", "dee", "Dee", null), "sentinel"));
    assertThat(awaitEvents(bridgeId, 4)).as("the delete of a message the bridge never saw came to nothing").hasSize(4);
  }

  @Test
  void aTokenDiscordRefusesForGoodRaisesTheAlertAndIsNotDialledAgain() {
    FakeDiscordApi.Hook hook = api.addWebhook();
    String token = api.addBot(api.snowflake(), hook.channelId);
    String roomId = node.createRoom("discord 4004").getString("room_id");
    gateway.closeIdentifyWith = 4004;
    String bridgeId;
    try {
      bridgeId = createdBridge(new JsonObject().put("transport", "discord").put("direction", "inbound").put("room_id", roomId)
          .put("name", "discord refused").put("discord_channel_id", hook.channelId).put("discord_bot_token", token));
      await().atMost(10, TimeUnit.SECONDS).until(() -> alerts(bridgeId).size() == 1);
    } finally {
      gateway.closeIdentifyWith = null;
    }
    assertThat(alerts(bridgeId).get(0)).contains("4004", "authentication failed");

    // Another bridge (another token) makes the node reconcile: the refused token is not dialled again.
    String otherToken = api.addBot(api.snowflake(), hook.channelId);
    createdBridge(new JsonObject().put("transport", "discord").put("direction", "inbound").put("room_id", roomId)
        .put("name", "discord fine").put("discord_channel_id", hook.channelId).put("discord_bot_token", otherToken));
    identifyOf(connectionOf(otherToken));
    assertThat(identifiesWith(token)).as("one Identify with the refused token, no reconnect loop").hasSize(1);
    assertThat(alerts(bridgeId)).hasSize(1);
  }

  // --- helpers

  static JsonObject user(String id, String username, String globalName, String avatar) {
    return new JsonObject().put("id", id).put("username", username).put("global_name", globalName).put("avatar", avatar)
        .put("discriminator", "0");
  }

  static JsonObject message(String id, String channelId, JsonObject author, String content) {
    return new JsonObject().put("id", id).put("type", 0).put("channel_id", channelId).put("author", author).put("content", content)
        .putNull("edited_timestamp").put("attachments", new JsonArray()).put("embeds", new JsonArray())
        .put("timestamp", "2026-12-01T09:00:00.000+00:00");
  }

  static String createdBridge(JsonObject body) {
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject().getString("bridge_id");
  }

  static void postNative(String roomId, String sender, String text) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), new JsonObject()
        .put("sender", sender).put("content", new JsonObject().put("msgtype", "swp.text").put("body", text)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
  }

  /** The connection that identified with {@code token}, once it did and got READY. */
  static DiscordGatewayTest.FakeGateway.Connection connectionOf(String token) {
    await().atMost(10, TimeUnit.SECONDS).until(() -> !identifiesWith(token).isEmpty());
    return gateway.connections.stream().filter(c -> c.received(2).stream()
        .anyMatch(i -> token.equals(i.getJsonObject("d").getString("token")))).findFirst().orElseThrow();
  }

  static JsonObject identifyOf(DiscordGatewayTest.FakeGateway.Connection connection) {
    return connection.received(2).get(0).getJsonObject("d");
  }

  static List<JsonObject> identifiesWith(String token) {
    List<JsonObject> found = new ArrayList<>();
    gateway.connections.forEach(c -> c.received(2).stream().filter(i -> token.equals(i.getJsonObject("d").getString("token")))
        .forEach(found::add));
    return found;
  }

  /** The bridge's events, oldest first, once there are at least {@code atLeast}. */
  static List<Row> awaitEvents(String bridgeId, int atLeast) {
    await().atMost(10, TimeUnit.SECONDS).until(() -> events(bridgeId).size() >= atLeast);
    return events(bridgeId);
  }

  static List<Row> events(String bridgeId) {
    List<Row> rows = new ArrayList<>();
    node.sql("""
        SELECT e.id, e.content::text AS content, e.reply_to, e.external_id, p.external_id AS sender_external_id, p.display_name,
               p.avatar_url
        FROM events e JOIN participants p ON p.id = e.sender_id WHERE e.origin_bridge_id = $1 ORDER BY e.seq""", bridgeId)
        .forEach(rows::add);
    return rows;
  }

  static List<String> alerts(String bridgeId) {
    List<String> reasons = new ArrayList<>();
    node.sql("SELECT payload->>'reason' FROM audit_events WHERE action = 'bridge.unreachable' AND category = 'SECURITY' "
        + "AND resource_id = $1", bridgeId).forEach(row -> reasons.add(row.getString(0)));
    return reasons;
  }
}
