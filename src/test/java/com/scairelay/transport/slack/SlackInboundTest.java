package com.scairelay.transport.slack;

import com.scairelay.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static com.scairelay.transport.slack.SlackTestBridges.BOT_ID;
import static com.scairelay.transport.slack.SlackTestBridges.BOT_USER;
import static com.scairelay.transport.slack.SlackTestBridges.SIGNING_SECRET;
import static com.scairelay.transport.slack.SlackTestBridges.TEAM;
import static com.scairelay.transport.slack.SlackTestBridges.envelope;
import static com.scairelay.transport.slack.SlackTestBridges.event;
import static com.scairelay.transport.slack.SlackTestBridges.message;
import static com.scairelay.transport.slack.SlackTestBridges.raw;
import static com.scairelay.transport.slack.SlackTestBridges.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Slack's Events API into a bridge ({@code POST /v1/bridges/{id}/slack/events}): signatures, the URL
 * check, retries, which events are bridged, echoes, threads, edits and deletes, and the sender's
 * profile fetched only after Slack was answered.
 */
class SlackInboundTest {
  static final AtomicInteger channels = new AtomicInteger();
  static Vertx slackVertx;
  static FakeSlack slack;
  static TestNode node;

  String roomId;
  String channel;
  String bridgeId;

  @BeforeAll
  static void start() {
    slackVertx = Vertx.vertx();
    slack = FakeSlack.start(slackVertx);
    SlackTestBridges.installWorkspace(slack);
    node = TestNode.start(SlackTestBridges.env(slack, Map.of(
        "RELAY_SLACK_PACE_MS", "0",
        "RELAY_SLACK_PROFILE_CACHE_SECONDS", "600")));
  }

  @AfterAll
  static void stop() {
    node.close();
    slack.close();
    slackVertx.close().await();
  }

  @BeforeEach
  void bridge() {
    roomId = node.createRoom("slack inbound").getString("room_id");
    channel = "C0IN" + channels.incrementAndGet();
    slack.channel(channel);
    bridgeId = SlackTestBridges.created(node, SlackTestBridges.slackBridge(roomId, "both", channel)).getString("bridge_id");
  }

  @AfterEach
  void letUsersInfoGo() {
    slack.releaseUsersInfo();
    slack.onUsersInfo(call -> Future.succeededFuture());
  }

  private HttpResponse<Buffer> post(String eventId, JsonObject event) {
    return event(node, bridgeId, envelope(eventId, event));
  }

  /** Posts a message that must be stored; our event id. */
  private String stored(String eventId, JsonObject event) {
    HttpResponse<Buffer> response = post(eventId, event);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getBoolean("duplicate")).as(response.bodyAsString()).isFalse();
    return response.bodyAsJsonObject().getString("event_id");
  }

  private void assertIgnored(HttpResponse<Buffer> response, String why) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getString("ignored")).as(response.bodyAsString()).contains(why);
  }

  private List<Row> events() {
    List<Row> rows = new CopyOnWriteArrayList<>();
    node.sql("SELECT id, content::text AS content, thread_id, external_id FROM events WHERE room_id = $1 ORDER BY seq", roomId)
        .forEach(rows::add);
    return rows;
  }

  private JsonObject content(String eventId) {
    return new JsonObject((String) node.queryValue("SELECT content::text FROM events WHERE id = $1", eventId));
  }

  @Test
  void urlVerificationAnswersTheChallenge() {
    JsonObject check = new JsonObject().put("token", "Jhj5dZrVaK7ZwHHjRyZWjbDl").put("type", "url_verification")
        .put("challenge", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");

    HttpResponse<Buffer> response = event(node, bridgeId, check);

    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject()).isEqualTo(new JsonObject().put("challenge", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"));
    assertThat(events()).isEmpty();
  }

  @Test
  void aMessageIsStoredAsTheShadowOfItsSlackUserAndAnswered200() {
    String eventId = stored("Ev0001", message(channel, "U0ALICE", "Tom &amp; Jerry &lt;3", "1700000001.000100"));

    List<Row> rows = events();
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).getString("id")).isEqualTo(eventId);
    assertThat(rows.get(0).getString("external_id")).as("the message's ts is its id on the bridge").isEqualTo("1700000001.000100");
    JsonObject content = new JsonObject(rows.get(0).getString("content"));
    assertThat(content.getString("msgtype")).isEqualTo("swp.text");
    assertThat(content.getString("body")).isEqualTo("Tom & Jerry <3");
    assertThat(content.getJsonObject("_imported_sender").getString("external_id")).isEqualTo("U0ALICE");
    assertThat(node.queryValue("SELECT fqid FROM participants p JOIN events e ON e.sender_id = p.id WHERE e.id = $1", eventId))
        .isEqualTo("@bridge_" + bridgeId.replace("_", "__") + "._u0_a_l_i_c_e:relay.test");
  }

  @Test
  void aBadOldOrMissingSignatureIs401AndStoresNothing() {
    String body = envelope("Ev0002", message(channel, "U0ALICE", "forged", "1700000002.000100")).encode();
    long now = node.clock.instant().getEpochSecond();

    HttpResponse<Buffer> wrongSecret = raw(node, bridgeId, body,
        Map.of("X-Slack-Request-Timestamp", Long.toString(now), "X-Slack-Signature", sign("not-the-secret", now, body)));
    HttpResponse<Buffer> otherBody = raw(node, bridgeId, body.replace("forged", "forgeD"),
        Map.of("X-Slack-Request-Timestamp", Long.toString(now), "X-Slack-Signature", sign(SIGNING_SECRET, now, body)));
    long old = now - 301;
    HttpResponse<Buffer> tooOld = raw(node, bridgeId, body,
        Map.of("X-Slack-Request-Timestamp", Long.toString(old), "X-Slack-Signature", sign(SIGNING_SECRET, old, body)));
    HttpResponse<Buffer> noSignature = raw(node, bridgeId, body, Map.of("X-Slack-Request-Timestamp", Long.toString(now)));
    HttpResponse<Buffer> noTimestamp = raw(node, bridgeId, body, Map.of("X-Slack-Signature", sign(SIGNING_SECRET, now, body)));
    HttpResponse<Buffer> malformed = raw(node, bridgeId, body,
        Map.of("X-Slack-Request-Timestamp", Long.toString(now), "X-Slack-Signature", "v1=" + sign(SIGNING_SECRET, now, body).substring(3)));

    assertUnauthorized(wrongSecret, "does not match");
    assertUnauthorized(otherBody, "does not match");
    assertUnauthorized(tooOld, "300 s");
    assertUnauthorized(noSignature, "X-Slack-Signature header is missing");
    assertUnauthorized(noTimestamp, "X-Slack-Request-Timestamp header is missing");
    assertUnauthorized(malformed, "malformed");
    assertThat(events()).isEmpty();
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND category = 'SECURITY'"
        + " AND action = 'bridge.inbound_signature_failed'", bridgeId)).isEqualTo(6L);

    long skewed = now + 299;
    HttpResponse<Buffer> withinTolerance = raw(node, bridgeId, body,
        Map.of("X-Slack-Request-Timestamp", Long.toString(skewed), "X-Slack-Signature", sign(SIGNING_SECRET, skewed, body)));
    assertThat(withinTolerance.statusCode()).as(withinTolerance.bodyAsString()).isEqualTo(200);
    assertThat(events()).hasSize(1);
  }

  private static void assertUnauthorized(HttpResponse<Buffer> response, String detail) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(401);
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detail);
  }

  @Test
  void slackRetriesOfAnEventAreStoredOnce() {
    JsonObject event = message(channel, "U0ALICE", "once", "1700000003.000100");
    String first = stored("Ev0003", event);

    HttpResponse<Buffer> retry = event(node, bridgeId, envelope("Ev0003", event),
        Map.of("X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout"));

    assertThat(retry.statusCode()).as(retry.bodyAsString()).isEqualTo(200);
    assertThat(retry.bodyAsJsonObject().getBoolean("duplicate")).isTrue();
    assertThat(retry.bodyAsJsonObject().getString("event_id")).isEqualTo(first);
    assertThat(events()).hasSize(1);
  }

  @Test
  void eventsOfAnotherChannelOrTeamOrKindAreAnswered200AndIgnored() {
    assertIgnored(post("Ev0004", message("C0ELSEWHERE", "U0ALICE", "hi", "1700000004.000100")), "channel C0ELSEWHERE");
    assertIgnored(event(node, bridgeId, envelope("Ev0005", message(channel, "U0ALICE", "hi", "1700000005.000100"))
        .put("team_id", "T0OTHER99")), "team T0OTHER99");
    assertIgnored(post("Ev0006", message(channel, "U0ALICE", "", "1700000006.000100").put("subtype", "channel_join")),
        "channel_join");
    assertIgnored(post("Ev0007", new JsonObject().put("type", "reaction_added").put("user", "U0ALICE")), "reaction_added");
    assertIgnored(event(node, bridgeId, new JsonObject().put("type", "app_rate_limited").put("team_id", TEAM)), "app_rate_limited");
    assertThat(events()).isEmpty();
  }

  @Test
  void ourBotsOwnPostsAndMessagesOurDeliveriesCreatedAreIgnored() {
    assertIgnored(post("Ev0010", message(channel, null, "relayed", "1700000010.000100").put("subtype", "bot_message")
        .put("bot_id", BOT_ID).put("username", "Bob")), "our own post");
    assertIgnored(post("Ev0011", message(channel, BOT_USER, "relayed", "1700000011.000100")), "our own post");

    // A native message goes out to Slack; Slack sends it back, here without our bot's ids.
    String nativeId = SlackTestBridges.say(node, roomId, "carol", "Carol", SlackTestBridges.text("from the room"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(SlackTestBridges.status(node, bridgeId, nativeId)));
    String ts = postedTs(nativeId);
    assertThat(ts).as("the ts Slack answered is recorded for the delivery").isNotNull();
    assertIgnored(post("Ev0012", message(channel, "U0SOMEONE", "from the room", ts)), "created by a delivery of event " + nativeId);

    assertThat(events()).extracting(r -> r.getString("id")).containsExactly(nativeId);
  }

  private String postedTs(String eventId) {
    return (String) node.queryValue("SELECT foreign_id FROM bridge_messages WHERE bridge_id = $1 AND event_id = $2", bridgeId, eventId);
  }

  @Test
  void aThreadReplyIsThreadedUnderItsRootWhetherSlackOrWePostedIt() {
    String root = stored("Ev0020", message(channel, "U0ALICE", "root", "1700000020.000100"));
    String reply = stored("Ev0021", message(channel, "U0BOB", "reply", "1700000021.000100").put("thread_ts", "1700000020.000100"));

    String nativeRoot = SlackTestBridges.say(node, roomId, "carol", "Carol", SlackTestBridges.text("native root"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(SlackTestBridges.status(node, bridgeId, nativeRoot)));
    String ourTs = postedTs(nativeRoot);
    assertThat(ourTs).isNotNull();
    String replyToOurs = stored("Ev0022", message(channel, "U0BOB", "reply to ours", "1700000022.000100").put("thread_ts", ourTs));
    String parent = stored("Ev0023", message(channel, "U0BOB", "a parent", "1700000023.000100").put("thread_ts", "1700000023.000100"));

    assertThat(threadOf(reply)).isEqualTo(root);
    assertThat(threadOf(replyToOurs)).isEqualTo(nativeRoot);
    assertThat(threadOf(parent)).as("a thread's parent carries thread_ts = its own ts").isNull();
  }

  private String threadOf(String eventId) {
    return (String) node.queryValue("SELECT thread_id FROM events WHERE id = $1", eventId);
  }

  @Test
  void anEditOrDeleteOfAKnownMessageBecomesAnEditOrDeleteOfOurEvent() {
    String original = stored("Ev0030", message(channel, "U0ALICE", "helo", "1700000030.000100"));
    JsonObject changed = new JsonObject().put("type", "message").put("subtype", "message_changed").put("hidden", true).put("channel", channel)
        .put("ts", "1700000031.000001").put("event_ts", "1700000031.000001")
        .put("message", message(channel, "U0ALICE", "hello &amp; welcome", "1700000030.000100")
            .put("edited", new JsonObject().put("user", "U0ALICE").put("ts", "1700000031.000001")))
        .put("previous_message", message(channel, "U0ALICE", "helo", "1700000030.000100"));
    String edit = stored("Ev0031", changed);
    JsonObject deleted = new JsonObject().put("type", "message").put("subtype", "message_deleted").put("hidden", true).put("channel", channel)
        .put("ts", "1700000032.000001").put("deleted_ts", "1700000030.000100")
        .put("previous_message", message(channel, "U0ALICE", "hello &amp; welcome", "1700000030.000100"));
    String delete = stored("Ev0032", deleted);

    assertThat(content(edit)).isEqualTo(new JsonObject().put("msgtype", "swp.edit").put("target_event_id", original)
        .put("body", "hello & welcome").put("_imported_sender", content(edit).getJsonObject("_imported_sender")));
    assertThat(content(delete).getString("msgtype")).isEqualTo("swp.delete");
    assertThat(content(delete).getString("target_event_id")).isEqualTo(original);
    assertThat(content(delete).getJsonObject("_imported_sender").getString("external_id")).isEqualTo("U0ALICE");

    // A reply in the original's thread still threads under the original, not under its edit.
    String reply = stored("Ev0033", message(channel, "U0BOB", "re", "1700000033.000100").put("thread_ts", "1700000030.000100"));
    assertThat(threadOf(reply)).isEqualTo(original);

    // A thread's root deleted while replies stay: Slack turns it into a tombstone.
    String root = stored("Ev0034", message(channel, "U0BOB", "root", "1700000034.000100"));
    JsonObject tombstone = new JsonObject().put("type", "message").put("subtype", "message_changed").put("hidden", true)
        .put("channel", channel).put("ts", "1700000035.000001")
        .put("message", new JsonObject().put("type", "message").put("subtype", "tombstone").put("text", "This message was deleted.")
            .put("user", "USLACKBOT").put("hidden", true).put("ts", "1700000034.000100").put("thread_ts", "1700000034.000100"))
        .put("previous_message", message(channel, "U0BOB", "root", "1700000034.000100"));
    String deleteRoot = stored("Ev0035", tombstone);
    assertThat(content(deleteRoot).getString("msgtype")).isEqualTo("swp.delete");
    assertThat(content(deleteRoot).getString("target_event_id")).isEqualTo(root);
    assertThat(content(deleteRoot).getJsonObject("_imported_sender").getString("external_id")).isEqualTo("U0BOB");
  }

  @Test
  void changesOfUnknownMessagesOrOfNothingButAttachmentsAreIgnored() {
    stored("Ev0040", message(channel, "U0ALICE", "see https://example.org", "1700000040.000100"));
    JsonObject unfurled = new JsonObject().put("type", "message").put("subtype", "message_changed").put("channel", channel)
        .put("ts", "1700000041.000001")
        .put("message", message(channel, "U0ALICE", "see https://example.org", "1700000040.000100")
            .put("attachments", new io.vertx.core.json.JsonArray().add(new JsonObject().put("from_url", "https://example.org"))))
        .put("previous_message", message(channel, "U0ALICE", "see https://example.org", "1700000040.000100"));
    assertIgnored(post("Ev0041", unfurled), "not its text");

    JsonObject unknownEdit = new JsonObject().put("type", "message").put("subtype", "message_changed").put("channel", channel)
        .put("ts", "1700000042.000001").put("message", message(channel, "U0ALICE", "new", "1690000000.000100"));
    assertIgnored(post("Ev0042", unknownEdit), "not known");
    JsonObject unknownDelete = new JsonObject().put("type", "message").put("subtype", "message_deleted").put("channel", channel)
        .put("ts", "1700000043.000001").put("deleted_ts", "1690000000.000100");
    assertIgnored(post("Ev0043", unknownDelete), "not known");
    assertThat(events()).hasSize(1);
  }

  @Test
  void theSendersProfileIsAskedForOnlyAfterSlackWasAnsweredThenCached() {
    slack.user("U0DANA", "dana", "Dana Scully", "https://avatars.example/dana.png");
    List<Boolean> storedWhenAsked = new CopyOnWriteArrayList<>();
    slack.onUsersInfo(call -> node.sql.preparedQuery("SELECT count(*) FROM events WHERE room_id = $1").execute(Tuple.of(roomId))
        .map(rows -> {
          storedWhenAsked.add(rows.iterator().next().getLong(0) > 0);
          return null;
        }));
    slack.holdUsersInfo();
    int before = slack.calls("users.info").size();

    // The room is locked, so the event cannot be stored yet: Slack must not be asked anything meanwhile.
    SqlConnection lock = node.sql.getConnection().await();
    Transaction tx = lock.begin().await();
    lock.preparedQuery("SELECT id FROM rooms WHERE id = $1 FOR UPDATE").execute(Tuple.of(roomId)).await();
    Future<HttpResponse<Buffer>> answer = SlackTestBridges.eventAsync(node, bridgeId,
        envelope("Ev0050", message(channel, "U0DANA", "first", "1700000050.000100")), Map.of());
    await().during(500, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS)
        .until(() -> slack.calls("users.info").size() == before && !answer.isComplete());
    tx.commit().await();
    lock.close().await();
    HttpResponse<Buffer> response = answer.await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    String first = response.bodyAsJsonObject().getString("event_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> slack.calls("users.info").size() == before + 1);
    assertThat(slack.calls("users.info").get(before).query().get("user")).isEqualTo("U0DANA");
    assertThat(slack.calls("users.info").get(before).headers().get("Authorization")).isEqualTo("Bearer " + SlackTestBridges.TOKEN);
    await().atMost(10, TimeUnit.SECONDS).until(() -> storedWhenAsked.size() == 1);
    assertThat(storedWhenAsked).as("users.info comes after the event is stored (and Slack answered)").containsExactly(true);
    assertThat(content(first).getJsonObject("_imported_sender").getString("display_name")).isNull();
    // users.info is still held: answering Slack did not wait for it.

    slack.releaseUsersInfo();
    await().atMost(10, TimeUnit.SECONDS).until(() -> "dana".equals(shadowName("U0DANA")));
    assertThat(node.queryValue("SELECT avatar_url FROM participants WHERE bridge_id = $1 AND external_id = 'U0DANA'", bridgeId))
        .isEqualTo("https://avatars.example/dana.png");

    String second = stored("Ev0051", message(channel, "U0DANA", "second", "1700000051.000100"));
    assertThat(content(second).getJsonObject("_imported_sender").getString("display_name")).as("the cached name").isEqualTo("dana");
    assertThat(content(second).getJsonObject("_imported_sender").getString("avatar_url")).isEqualTo("https://avatars.example/dana.png");
    node.awaitDeliveriesQuiet();
    assertThat(slack.calls("users.info")).as("cached: not asked again").hasSize(before + 1);

    slack.user("U0DANA", "dana.s", "Dana Scully", "https://avatars.example/dana2.png");
    node.clock.advance(Duration.ofSeconds(601));
    stored("Ev0052", message(channel, "U0DANA", "third", "1700000052.000100"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> "dana.s".equals(shadowName("U0DANA")));
    assertThat(slack.calls("users.info")).as("asked again once the cache period is over").hasSize(before + 2);
  }

  private String shadowName(String user) {
    return (String) node.queryValue("SELECT display_name FROM participants WHERE bridge_id = $1 AND external_id = $2", bridgeId, user);
  }

  @Test
  void aBodyThatIsNotSlacksJsonIs400() {
    HttpResponse<Buffer> notJson = raw(node, bridgeId, "nope", signedHeaders("nope"));
    String noTs = envelope("Ev0060", message(channel, "U0ALICE", "x", null)).encode();
    HttpResponse<Buffer> missingTs = raw(node, bridgeId, noTs, signedHeaders(noTs));

    assertThat(notJson.statusCode()).as(notJson.bodyAsString()).isEqualTo(400);
    assertThat(missingTs.statusCode()).as(missingTs.bodyAsString()).isEqualTo(400);
    assertThat(missingTs.bodyAsJsonObject().getString("detail")).contains("event.ts");
  }

  private static Map<String, String> signedHeaders(String body) {
    long now = node.clock.instant().getEpochSecond();
    return Map.of("X-Slack-Request-Timestamp", Long.toString(now), "X-Slack-Signature", sign(SIGNING_SECRET, now, body));
  }
}
