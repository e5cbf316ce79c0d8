package com.scairelay.transport.discord;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Discord bridges, outbound, against {@link FakeDiscordApi}: the webhook checked at creation and its token
 * never shown, messages posted as their sender in parts of 2,000 characters, Discord's rate limits obeyed
 * (an empty bucket, a 429, a global 429), a deleted webhook failing once and parking the queue, and edits
 * and deletes reaching the message the bridge posted.
 */
class DiscordOutboundTest {
  static FakeDiscordApi discord;
  static TestNode node;

  @BeforeAll
  static void start() {
    discord = new FakeDiscordApi();
    // The inbound bridge made here dials the Gateway: a loopback port nobody listens on, never Discord.
    node = TestNode.start(Map.of("RELAY_DISCORD_API_URL", discord.apiUrl(), "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "1500",
        "RELAY_DISCORD_GATEWAY_URL", "ws://127.0.0.1:" + TestNode.freePort()));
  }

  @AfterAll
  static void stop() {
    node.close();
    discord.close();
  }

  @Test
  void creatingABridgeChecksTheWebhookAndNeverShowsItsToken() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord created").getString("room_id");

    HttpResponse<Buffer> created = createBridge(outbound(roomId, hook.url()));

    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    JsonObject bridge = created.bodyAsJsonObject();
    assertThat(bridge.getString("discord_webhook_id")).isEqualTo(hook.id);
    assertThat(bridge.getString("discord_channel_id")).as("the webhook's channel, from Get Webhook with Token").isEqualTo(hook.channelId);
    assertThat(bridge.getString("discord_guild_id")).isEqualTo(hook.guildId);
    assertThat(discord.requests(HttpMethod.GET, hook.executePath())).hasSize(1);
    String id = bridge.getString("bridge_id");
    String shown = created.bodyAsString() + get("/v1/admin/bridges/" + id).bodyAsString() + get("/v1/admin/bridges").bodyAsString();
    assertThat(shown).doesNotContain(hook.token).doesNotContain("discord_webhook_url");
    Object config = node.queryValue("SELECT config::text FROM bridges WHERE id = $1", id);
    assertThat(config.toString()).as("the token is a credential, sealed, not config").doesNotContain(hook.token);
  }

  @Test
  void aWebhookDiscordDoesNotKnowIsRefusedNamingTheField() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord refused").getString("room_id");

    HttpResponse<Buffer> unknown = createBridge(outbound(roomId, "https://discord.com/api/webhooks/999/" + hook.token));
    HttpResponse<Buffer> wrongToken = createBridge(outbound(roomId, "https://discord.com/api/webhooks/" + hook.id + "/not-the-token"));
    HttpResponse<Buffer> notDiscord = createBridge(outbound(roomId, "https://example.com/api/webhooks/" + hook.id + "/" + hook.token));
    HttpResponse<Buffer> missing = createBridge(outbound(roomId, null));

    for (HttpResponse<Buffer> refused : List.of(unknown, wrongToken, notDiscord, missing)) {
      assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(400);
      assertThat(refused.bodyAsJsonObject().getString("detail")).contains("discord_webhook_url").doesNotContain(hook.token);
    }
    assertThat(unknown.bodyAsJsonObject().getString("detail")).contains("Unknown Webhook");
    assertThat(wrongToken.bodyAsJsonObject().getString("detail")).contains("Invalid Webhook Token");
    assertThat(discord.requestsUnder(FakeDiscordApi.PREFIX + "/webhooks/" + hook.id + "/" + hook.token))
        .as("a URL of another host is refused without a call").isEmpty();
  }

  @Test
  void anInboundBridgeChecksTheBotAndTheChannelAndNeverShowsTheToken() {
    String roomId = node.createRoom("discord bot").getString("room_id");
    String channel = discord.snowflake();
    String hidden = discord.snowflake();
    discord.channels.put(hidden, discord.snowflake());
    String token = discord.addBot("4242", channel);

    HttpResponse<Buffer> badToken = createBridge(inbound(roomId, "MTIz.not-a-token-discord-knows", channel));
    HttpResponse<Buffer> notVisible = createBridge(inbound(roomId, token, hidden));
    HttpResponse<Buffer> noChannel = createBridge(inbound(roomId, token, null));
    HttpResponse<Buffer> created = createBridge(inbound(roomId, token, channel));

    assertThat(badToken.statusCode()).as(badToken.bodyAsString()).isEqualTo(400);
    assertThat(badToken.bodyAsJsonObject().getString("detail")).contains("discord_bot_token");
    assertThat(notVisible.statusCode()).as(notVisible.bodyAsString()).isEqualTo(400);
    assertThat(notVisible.bodyAsJsonObject().getString("detail")).contains("discord_channel_id", "Missing Access");
    assertThat(noChannel.statusCode()).as(noChannel.bodyAsString()).isEqualTo(400);
    assertThat(noChannel.bodyAsJsonObject().getString("detail")).contains("discord_channel_id");
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getString("discord_bot_user_id")).isEqualTo("4242");
    assertThat(created.bodyAsJsonObject().getString("discord_channel_id")).isEqualTo(channel);
    String id = created.bodyAsJsonObject().getString("bridge_id");
    assertThat(created.bodyAsString() + get("/v1/admin/bridges/" + id).bodyAsString()).doesNotContain(token).doesNotContain("discord_bot_token");
    FakeDiscordApi.Request me = discord.requests(HttpMethod.GET, FakeDiscordApi.PREFIX + "/users/@me").get(0);
    assertThat(me.headers().get("Authorization")).startsWith("Bot ");
  }

  @Test
  void aMessageIsPostedAsItsSenderMentioningNobody() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord post").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    JsonObject source = node.createBridge(roomId, "inbound");
    JsonObject message = TestNode.message("dc-1", "U7", "hello @everyone");
    message.getJsonObject("sender").put("display_name", "Discord Clyde fan").put("avatar_url", "https://img.example/u7.png");

    HttpResponse<Buffer> posted = node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), message).await();
    assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(202);

    await().atMost(10, TimeUnit.SECONDS).until(() -> hook.executes().size() == 1);
    FakeDiscordApi.Request execute = hook.executes().get(0);
    assertThat(execute.query()).isEqualTo("wait=true");
    JsonObject body = execute.json();
    assertThat(body.getString("content")).isEqualTo("hello @everyone");
    assertThat(body.getString("username")).as("Discord refuses names containing 'discord' or 'clyde'")
        .isEqualTo("Disc\u043Erd Clyd\u0435 fan").doesNotContainIgnoringCase("discord").doesNotContainIgnoringCase("clyde");
    assertThat(body.getString("avatar_url")).isEqualTo("https://img.example/u7.png");
    assertThat(body.getJsonObject("allowed_mentions")).isEqualTo(new JsonObject().put("parse", new JsonArray()));
    String discordId = hook.messages.keySet().iterator().next();
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(outId).getString("status")));
    assertThat(lastDelivery(outId).getJsonArray("attempts").getJsonObject(0).getString("foreign_id")).isEqualTo(discordId);
  }

  @Test
  void aLongMessageIsPostedInPartsOfAtMost2000CharactersInOrder() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord long").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    String text = IntStream.range(0, 300).mapToObj(i -> "line " + i + " of a long message").collect(Collectors.joining("\n"));
    assertThat(text.length()).isGreaterThan(4000);

    postNative(roomId, "alice", text);

    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(outId).getString("status")));
    List<String> parts = hook.executes().stream().map(r -> r.json().getString("content")).toList();
    assertThat(parts).hasSizeBetween((text.length() + 1999) / 2000, (text.length() + 1999) / 2000 + 1)
        .allSatisfy(part -> assertThat(part).hasSizeLessThanOrEqualTo(2000).startsWith("line ").endsWith(" of a long message"));
    assertThat(String.join("\n", parts)).as("in order, cut at line ends").isEqualTo(text);
    String firstId = hook.messages.values().stream().filter(m -> m.getString("content").equals(parts.get(0))).findFirst().orElseThrow()
        .getString("id");
    assertThat(lastDelivery(outId).getJsonArray("attempts").getJsonObject(0).getString("foreign_id"))
        .as("a split message is known by its first part").isEqualTo(firstId);
  }

  @Test
  void aSplitMessageWhoseLaterPartFailedPostsOnlyTheRestWhenRetried() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord resumed").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    String text = "a".repeat(1500) + "\n" + "b".repeat(1500) + "\n" + "c".repeat(1500);
    hook.thenAnswer(r -> null); // the first part is answered as Discord would
    hook.thenAnswer(r -> FakeDiscordApi.Answer.json(502, new JsonObject().put("message", "Bad Gateway").put("code", 0)));

    postNative(roomId, "alice", text);
    await().atMost(10, TimeUnit.SECONDS).until(() -> "transient".equals(lastAttemptOutcome(outId)));
    node.clock.advance(Duration.ofSeconds(5));

    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(outId).getString("status")));
    List<String> sent = hook.executes().stream().map(r -> r.json().getString("content").substring(0, 1)).toList();
    assertThat(sent).as("the first part is not posted again").containsExactly("a", "b", "b", "c");
    assertThat(hook.messages.values().stream().map(m -> m.getString("content").substring(0, 1)).sorted().toList())
        .containsExactly("a", "b", "c");
  }

  @Test
  void anEmptyBucketHoldsTheNextSendUntilItResets() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    hook.limit = 1;
    hook.resetMs = 600;
    String roomId = node.createRoom("discord bucket").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));

    postNative(roomId, "alice", "first");
    postNative(roomId, "alice", "second");

    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 2);
    List<FakeDiscordApi.Request> executes = hook.executes();
    assertThat(executes).hasSize(2);
    assertThat(executes.stream().map(r -> r.json().getString("content")).toList()).containsExactly("first", "second");
    long gapMs = (executes.get(1).atNanos() - executes.get(0).atNanos()) / 1_000_000;
    assertThat(gapMs).as("the second send waited for X-RateLimit-Reset-After, so Discord never answered 429").isGreaterThanOrEqualTo(500);
  }

  @Test
  void a429IsWaitedOutAsItsRetryAfterSaysThenDelivered() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord 429").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    hook.thenAnswer(r -> new FakeDiscordApi.Answer(429, Map.of("Retry-After", "1", "X-RateLimit-Scope", "user"),
        new JsonObject().put("message", "You are being rate limited.").put("retry_after", 0.4).put("global", false).encode()));

    postNative(roomId, "alice", "after the limit");
    await().atMost(10, TimeUnit.SECONDS).until(() -> "rate_limited".equals(lastAttemptOutcome(outId)));
    node.clock.advance(Duration.ofMillis(300));
    node.awaitDeliveriesQuiet();
    assertThat(hook.executes()).as("not retried before retry_after").hasSize(1);
    node.clock.advance(Duration.ofMillis(200));

    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(outId).getString("status")));
    assertThat(hook.executes()).hasSize(2);
    JsonObject limited = lastDelivery(outId).getJsonArray("attempts").getJsonObject(0);
    assertThat(limited.getInteger("status_code")).isEqualTo(429);
    assertThat(limited.getString("error")).contains("You are being rate limited");
  }

  @Test
  void aGlobal429HoldsEveryDiscordSendOfTheNode() {
    FakeDiscordApi.Hook limitedHook = discord.addWebhook();
    FakeDiscordApi.Hook otherHook = discord.addWebhook();
    String limitedRoom = node.createRoom("discord global a").getString("room_id");
    String otherRoom = node.createRoom("discord global b").getString("room_id");
    String limitedId = createdBridge(outbound(limitedRoom, limitedHook.url()));
    String otherId = createdBridge(outbound(otherRoom, otherHook.url()));
    limitedHook.thenAnswer(r -> new FakeDiscordApi.Answer(429, Map.of("X-RateLimit-Global", "true", "X-RateLimit-Scope", "global",
        "Retry-After", "1"), new JsonObject().put("message", "You are being rate limited.").put("retry_after", 0.5).put("global", true).encode()));

    postNative(limitedRoom, "alice", "globally limited");
    await().atMost(10, TimeUnit.SECONDS).until(() -> "rate_limited".equals(lastAttemptOutcome(limitedId)));
    postNative(otherRoom, "bob", "another webhook");
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(otherId) == 1);
    long gapMs = (otherHook.executes().get(0).atNanos() - limitedHook.executes().get(0).atNanos()) / 1_000_000;
    assertThat(gapMs).as("another webhook's send waited out the global limit").isGreaterThanOrEqualTo(450);

    node.clock.advance(Duration.ofSeconds(1));
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(limitedId).getString("status")));
    assertThat(limitedHook.executes()).hasSize(2);
    assertThat(lastDelivery(limitedId).getJsonArray("attempts").getJsonObject(0).getString("error")).contains("global");
  }

  @Test
  void aDeletedWebhookFailsOnceAlertsAndParksTheQueue() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord gone").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    hook.deleted = true;

    for (int i = 0; i < 5; i++) {
      postNative(roomId, "alice", "into the void " + i);
    }

    await().atMost(10, TimeUnit.SECONDS).until(() -> "failed".equals(oldestDelivery(outId).getString("status")));
    node.awaitDeliveriesQuiet();
    assertThat(discord.requests(HttpMethod.POST, hook.executePath())).as("one request, not one per queued message").hasSize(1);
    JsonObject failed = oldestDelivery(outId);
    assertThat(failed.getInteger("last_status_code")).isEqualTo(404);
    assertThat(failed.getString("last_error")).contains("Unknown Webhook").doesNotContain(hook.token);
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE action = 'bridge.unreachable' AND category = 'SECURITY' "
        + "AND resource_id = $1", outId)).isEqualTo(1L);
    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = 'pending'", outId)).isEqualTo(4L);

    node.clock.advance(Duration.ofSeconds(601));
    await().atMost(10, TimeUnit.SECONDS).until(() -> discord.requests(HttpMethod.POST, hook.executePath()).size() == 2);
    node.awaitDeliveriesQuiet();
    assertThat(discord.requests(HttpMethod.POST, hook.executePath())).as("after the hold, one more try").hasSize(2);
  }

  @Test
  void editsAndDeletesReachTheMessageTheBridgePosted() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord edits").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    String original = postNative(roomId, "alice", "frist");
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 1);
    String discordId = hook.messages.keySet().iterator().next();

    postContent(roomId, "alice", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", original).put("body", "first"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 2);
    List<FakeDiscordApi.Request> patches = discord.requests(HttpMethod.PATCH, hook.executePath() + "/messages/" + discordId);
    assertThat(patches).hasSize(1);
    assertThat(patches.get(0).json().getString("content")).isEqualTo("first");
    assertThat(hook.messages.get(discordId).getString("content")).isEqualTo("first");

    postContent(roomId, "alice", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", original));
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 3);
    assertThat(discord.requests(HttpMethod.DELETE, hook.executePath() + "/messages/" + discordId)).hasSize(1);
    assertThat(hook.messages).isEmpty();
    assertThat(hook.executes()).as("an edit or a delete posts nothing new").hasSize(1);
  }

  @Test
  void deletingASplitMessageDeletesEveryPart() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord split delete").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    String original = postNative(roomId, "alice", "x".repeat(1900) + " " + "y".repeat(1900));
    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 1);
    assertThat(hook.messages).hasSize(2);

    postContent(roomId, "alice", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", original));

    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 2);
    assertThat(hook.messages).isEmpty();
  }

  @Test
  void anEditOfAMessageTheBridgeNeverPostedSendsNothing() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord edit unknown").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));

    postContent(roomId, "alice", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", "evt_unknown").put("body", "x"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> deliveredCount(outId) == 1);
    node.awaitDeliveriesQuiet();
    assertThat(discord.requestsUnder(hook.executePath()).stream().filter(r -> r.method() != HttpMethod.GET).toList()).isEmpty();
    assertThat(lastDelivery(outId).getJsonArray("attempts").getJsonObject(0).getString("error")).startsWith("nothing sent");
  }

  @Test
  void aTimeoutNeverPutsTheWebhookTokenInTheDeliveryLog() {
    FakeDiscordApi.Hook hook = discord.addWebhook();
    String roomId = node.createRoom("discord timeout").getString("room_id");
    String outId = createdBridge(outbound(roomId, hook.url()));
    hook.thenAnswer(r -> FakeDiscordApi.Answer.NEVER);

    postNative(roomId, "alice", "into a slow Discord");

    await().atMost(10, TimeUnit.SECONDS).until(() -> "transient".equals(lastAttemptOutcome(outId)));
    String error = lastDelivery(outId).getJsonArray("attempts").getJsonObject(0).getString("error");
    assertThat(error).contains("timeout").doesNotContain(hook.token);
  }

  // --- helpers

  static JsonObject outbound(String roomId, String webhookUrl) {
    JsonObject body = new JsonObject().put("transport", "discord").put("direction", "outbound").put("room_id", roomId).put("name", "to discord");
    return webhookUrl == null ? body : body.put("discord_webhook_url", webhookUrl);
  }

  static JsonObject inbound(String roomId, String botToken, String channelId) {
    JsonObject body = new JsonObject().put("transport", "discord").put("direction", "inbound").put("room_id", roomId)
        .put("name", "from discord").put("discord_bot_token", botToken);
    return channelId == null ? body : body.put("discord_channel_id", channelId);
  }

  static HttpResponse<Buffer> createBridge(JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
  }

  static String createdBridge(JsonObject body) {
    HttpResponse<Buffer> created = createBridge(body);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject().getString("bridge_id");
  }

  static HttpResponse<Buffer> get(String path) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, path), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response;
  }

  static String postNative(String roomId, String sender, String text) {
    return postContent(roomId, sender, new JsonObject().put("msgtype", "swp.text").put("body", text));
  }

  static String postContent(String roomId, String sender, JsonObject content) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"),
        new JsonObject().put("sender", sender).put("display_name", sender).put("content", content));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  static JsonArray deliveries(String bridgeId) {
    return get("/v1/admin/bridges/" + bridgeId + "/deliveries").bodyAsJsonObject().getJsonArray("deliveries");
  }

  static JsonObject lastDelivery(String bridgeId) {
    JsonArray all = deliveries(bridgeId);
    return all.isEmpty() ? new JsonObject() : all.getJsonObject(0);
  }

  static JsonObject oldestDelivery(String bridgeId) {
    JsonArray all = deliveries(bridgeId);
    return all.isEmpty() ? new JsonObject() : all.getJsonObject(all.size() - 1);
  }

  static String lastAttemptOutcome(String bridgeId) {
    JsonArray attempts = lastDelivery(bridgeId).getJsonArray("attempts", new JsonArray());
    return attempts.isEmpty() ? null : attempts.getJsonObject(attempts.size() - 1).getString("outcome");
  }

  static long deliveredCount(String bridgeId) {
    return deliveries(bridgeId).stream().filter(d -> "delivered".equals(((JsonObject) d).getString("status"))).count();
  }
}
