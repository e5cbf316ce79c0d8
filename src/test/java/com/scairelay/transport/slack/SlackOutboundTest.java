package com.scairelay.transport.slack;

import com.scairelay.support.TestNode;
import io.vertx.core.Vertx;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static com.scairelay.transport.slack.SlackTestBridges.TOKEN;
import static com.scairelay.transport.slack.SlackTestBridges.created;
import static com.scairelay.transport.slack.SlackTestBridges.delivery;
import static com.scairelay.transport.slack.SlackTestBridges.say;
import static com.scairelay.transport.slack.SlackTestBridges.slackBridge;
import static com.scairelay.transport.slack.SlackTestBridges.status;
import static com.scairelay.transport.slack.SlackTestBridges.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Room events out to Slack: {@code chat.postMessage} under the sender's name in the right thread,
 * edits and deletes, Slack's rate limits and refusals as the delivery policy reads them, pacing per
 * channel and coalescing of a backlog.
 */
class SlackOutboundTest {
  static final long PACE_MS = 150;
  static final AtomicInteger channels = new AtomicInteger();
  static Vertx slackVertx;
  static FakeSlack slack;
  static TestNode node;

  String roomId;
  String channel;

  @BeforeAll
  static void start() {
    slackVertx = Vertx.vertx();
    slack = FakeSlack.start(slackVertx);
    SlackTestBridges.installWorkspace(slack);
    node = TestNode.start(SlackTestBridges.env(slack, Map.of(
        "RELAY_SLACK_PACE_MS", Long.toString(PACE_MS),
        "RELAY_SLACK_COALESCE_BACKLOG", "3",
        "RELAY_SLACK_COALESCE_MAX", "4")));
  }

  @AfterAll
  static void stop() {
    node.close();
    slack.close();
    slackVertx.close().await();
  }

  @BeforeEach
  void room() {
    roomId = node.createRoom("slack outbound").getString("room_id");
    channel = "C0OUT" + channels.incrementAndGet();
    slack.channel(channel);
  }

  private String outbound() {
    return created(node, slackBridge(roomId, "outbound", channel)).getString("bridge_id");
  }

  private void awaitDelivered(String bridgeId, String... eventIds) {
    await().atMost(15, TimeUnit.SECONDS).until(() -> {
      for (String eventId : eventIds) {
        if (!"delivered".equals(status(node, bridgeId, eventId))) {
          return false;
        }
      }
      return true;
    });
  }

  private static JsonObject lastAttempt(String bridgeId, String eventId) {
    JsonArray attempts = delivery(node, bridgeId, eventId).getJsonArray("attempts");
    return attempts.getJsonObject(0);
  }

  private List<JsonObject> posts() {
    return slack.chat("chat.postMessage", channel).stream().map(FakeSlack.Call::json).toList();
  }

  @Test
  void aMessageIsPostedUnderItsSendersNameAndAvatarAndItsTsKept() {
    JsonObject custom = node.createBridge(roomId, "inbound");
    String bridgeId = outbound();

    HttpResponse<Buffer> in = node.postInbound(custom.getString("bridge_id"), custom.getString("shared_secret"), new JsonObject()
        .put("event_id", "c-1")
        .put("sender", new JsonObject().put("external_id", "E1").put("display_name", "Alice").put("avatar_url", "https://a.example/alice.png"))
        .put("content", text("1 < 2 & <!channel> too"))).await();
    assertThat(in.statusCode()).as(in.bodyAsString()).isEqualTo(202);
    String eventId = in.bodyAsJsonObject().getString("event_id");
    awaitDelivered(bridgeId, eventId);

    assertThat(slack.chat("chat.postMessage", channel)).hasSize(1);
    FakeSlack.Call call = slack.chat("chat.postMessage", channel).get(0);
    assertThat(call.headers().get("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(call.headers().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
    assertThat(call.json()).isEqualTo(new JsonObject().put("channel", channel).put("text", "1 &lt; 2 &amp; &lt;!channel&gt; too")
        .put("username", "Alice").put("icon_url", "https://a.example/alice.png"));
    String ts = lastAttempt(bridgeId, eventId).getString("foreign_id");
    assertThat(ts).matches("\\d+\\.\\d{6}");
    assertThat(node.queryValue("SELECT event_id FROM bridge_messages WHERE bridge_id = $1 AND foreign_id = $2", bridgeId, ts))
        .isEqualTo(eventId);

    String plain = say(node, roomId, "bob", "Bob", text("no avatar"));
    awaitDelivered(bridgeId, plain);
    assertThat(posts().get(1)).isEqualTo(new JsonObject().put("channel", channel).put("text", "no avatar").put("username", "Bob"));
  }

  @Test
  void aThreadReplyGoesIntoTheSlackThreadOfItsRootWhenSlackKnowsIt() {
    String before = say(node, roomId, "carol", "Carol", text("said before the bridge"));
    String bridgeId = created(node, slackBridge(roomId, "both", channel)).getString("bridge_id");
    // A root we post, and one Slack sent in.
    String ourRoot = say(node, roomId, "carol", "Carol", text("our root"));
    awaitDelivered(bridgeId, ourRoot);
    String ourRootTs = lastAttempt(bridgeId, ourRoot).getString("foreign_id");
    HttpResponse<Buffer> in = SlackTestBridges.event(node, bridgeId,
        SlackTestBridges.envelope("EvT1", SlackTestBridges.message(channel, "U0ALICE", "slack root", "1690000001.000100")));
    assertThat(in.statusCode()).as(in.bodyAsString()).isEqualTo(200);
    String slackRoot = in.bodyAsJsonObject().getString("event_id");

    String replyToOurs = say(node, roomId, reply("carol", "reply to ours", ourRoot));
    String replyToSlacks = say(node, roomId, reply("carol", "reply to slack's", slackRoot));
    String replyToUnknown = say(node, roomId, reply("carol", "reply to what slack never saw", before));
    awaitDelivered(bridgeId, replyToOurs, replyToSlacks, replyToUnknown);

    List<JsonObject> posts = posts();
    assertThat(posts).hasSize(4);
    assertThat(posts.get(1).getString("thread_ts")).isEqualTo(ourRootTs);
    assertThat(posts.get(2).getString("thread_ts")).isEqualTo("1690000001.000100");
    assertThat(posts.get(3).containsKey("thread_ts")).as(posts.get(3).encode()).isFalse();
  }

  private static JsonObject reply(String sender, String body, String threadId) {
    return new JsonObject().put("sender", sender).put("display_name", sender).put("content", text(body)).put("thread_id", threadId);
  }

  @Test
  void editsAndDeletesBecomeChatUpdateAndChatDeleteOfThePostedMessage() {
    String unknown = say(node, roomId, "dave", "Dave", text("before the bridge"));
    String bridgeId = outbound();
    String original = say(node, roomId, "dave", "Dave", text("helo"));
    awaitDelivered(bridgeId, original);
    String ts = lastAttempt(bridgeId, original).getString("foreign_id");

    String edit = say(node, roomId, "dave", "Dave", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", original)
        .put("body", "hello <you>"));
    awaitDelivered(bridgeId, edit);
    String delete = say(node, roomId, "dave", "Dave", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", original));
    awaitDelivered(bridgeId, delete);
    String editUnknown = say(node, roomId, "dave", "Dave", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", unknown)
        .put("body", "changed"));
    awaitDelivered(bridgeId, editUnknown);

    assertThat(slack.chat("chat.update", channel)).extracting(FakeSlack.Call::json)
        .containsExactly(new JsonObject().put("channel", channel).put("ts", ts).put("text", "hello &lt;you&gt;"));
    assertThat(slack.chat("chat.delete", channel)).extracting(FakeSlack.Call::json)
        .containsExactly(new JsonObject().put("channel", channel).put("ts", ts));
    assertThat(slack.chat("chat.update", channel).get(0).headers().get("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(posts()).as("only the original was posted").hasSize(1);
    assertThat(lastAttempt(bridgeId, editUnknown).getString("error")).contains(unknown, "nothing was sent");
  }

  @Test
  void aRateLimitIsWaitedOutAsSlackSaysThenTheMessageIsDelivered() {
    String bridgeId = outbound();
    slack.script("chat.postMessage", FakeSlack.Answer.tooManyRequests(1));
    String first = say(node, roomId, "erin", "Erin", text("limited by HTTP 429"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> delivery(node, bridgeId, first).getInteger("attempt_count") == 1);
    JsonObject attempt = lastAttempt(bridgeId, first);
    assertThat(attempt.getString("outcome")).isEqualTo("rate_limited");
    assertThat(attempt.getInteger("status_code")).isEqualTo(429);
    node.awaitDeliveriesQuiet();
    node.clock.advance(Duration.ofMillis(900));
    node.awaitDeliveriesQuiet();
    assertThat(slack.chat("chat.postMessage", channel)).as("nothing before Retry-After").hasSize(1);
    node.clock.advance(Duration.ofMillis(100));
    awaitDelivered(bridgeId, first);
    List<FakeSlack.Call> calls = slack.chat("chat.postMessage", channel);
    assertThat(calls).hasSize(2);
    assertThat((calls.get(1).atNanos() - calls.get(0).atNanos()) / 1_000_000)
        .as("the channel itself is held for Retry-After, however fast the node's clock moves").isGreaterThanOrEqualTo(950);

    slack.script("chat.postMessage", FakeSlack.Answer.ratelimited(1));
    String second = say(node, roomId, "erin", "Erin", text("limited by ok:false"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> delivery(node, bridgeId, second).getInteger("attempt_count") == 1);
    assertThat(lastAttempt(bridgeId, second).getString("outcome")).isEqualTo("rate_limited");
    assertThat(lastAttempt(bridgeId, second).getString("error")).contains("ratelimited");
    node.awaitDeliveriesQuiet();
    node.clock.advance(Duration.ofMillis(900));
    node.awaitDeliveriesQuiet();
    assertThat(slack.chat("chat.postMessage", channel)).hasSize(3);
    node.clock.advance(Duration.ofMillis(100));
    awaitDelivered(bridgeId, second);
    assertThat(posts()).extracting(p -> p.getString("text"))
        .containsExactly("limited by HTTP 429", "limited by HTTP 429", "limited by ok:false", "limited by ok:false");
  }

  @Test
  void aChannelSlackDoesNotKnowFailsTheDeliveryAlertsTheAdminAndParksTheQueue() {
    channel = "C0GONE" + channels.incrementAndGet(); // never created on the fake Slack
    String bridgeId = outbound();
    // Three senders: a backlog of one sender's messages would be joined into one post (and fail as one).
    String first = say(node, roomId, "frank", "Frank", text("one"));
    String second = say(node, roomId, "grace", "Grace", text("two"));
    String third = say(node, roomId, "heidi", "Heidi", text("three"));

    await().atMost(10, TimeUnit.SECONDS).until(() -> "failed".equals(status(node, bridgeId, first)));
    node.awaitDeliveriesQuiet();

    assertThat(slack.chat("chat.postMessage", channel)).as("one request, then the queue is parked").hasSize(1);
    assertThat(lastAttempt(bridgeId, first).getString("outcome")).isEqualTo("permanent");
    assertThat(delivery(node, bridgeId, first).getString("last_error")).contains("channel_not_found");
    assertThat(status(node, bridgeId, second)).isEqualTo("pending");
    assertThat(status(node, bridgeId, third)).isEqualTo("pending");
    assertThat(node.queryValue("SELECT category FROM audit_events WHERE resource_id = $1 AND action = 'bridge.unreachable'", bridgeId))
        .isEqualTo("SECURITY");
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action = 'bridge.unreachable'", bridgeId))
        .isEqualTo(1L);
  }

  @Test
  void postsToOneChannelAreSpacedByThePaceAndNoneIsDropped() {
    String bridgeId = created(node, slackBridge(roomId, "outbound", channel).put("max_in_flight", 3)).getString("bridge_id");
    String[] events = new String[5];
    for (int i = 0; i < events.length; i++) {
      String sender = i % 2 == 0 ? "gina" : "hank"; // alternate senders: nothing to coalesce
      events[i] = say(node, roomId, sender, sender, text("paced " + i));
    }
    awaitDelivered(bridgeId, events);

    List<FakeSlack.Call> calls = slack.chat("chat.postMessage", channel);
    assertThat(calls).extracting(c -> c.json().getString("text")).containsExactly("paced 0", "paced 1", "paced 2", "paced 3", "paced 4");
    for (int i = 1; i < calls.size(); i++) {
      long gapMs = (calls.get(i).atNanos() - calls.get(i - 1).atNanos()) / 1_000_000;
      // The pacer waits on timers, which fire at their time or a little after; loopback adds a few ms either way.
      assertThat(gapMs).as("gap before post " + i).isGreaterThanOrEqualTo(PACE_MS - 20);
    }
    long slowest = 0;
    for (String eventId : events) {
      slowest = Math.max(slowest, lastAttempt(bridgeId, eventId).getLong("latency_ms"));
    }
    assertThat(slowest).as("the paced wait is part of the latency").isGreaterThanOrEqualTo(2 * PACE_MS);
  }

  @Test
  void aBacklogOfOneSendersMessagesIsJoinedIntoOnePostAndEveryMessageDelivered() {
    String bridgeId = outbound();
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/pause"), null).statusCode()).isEqualTo(200);
    String[] alice = new String[5];
    for (int i = 0; i < alice.length; i++) {
      alice[i] = say(node, roomId, "alice", "Alice", text("A" + (i + 1)));
    }
    String b1 = say(node, roomId, "bob", "Bob", text("B1"));
    String b2 = say(node, roomId, "bob", "Bob", text("B2"));
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/resume"), null).statusCode()).isEqualTo(200);

    awaitDelivered(bridgeId, alice);
    awaitDelivered(bridgeId, b1, b2);

    // Backlog 3, at most 4 per post: A1–A4 joined; A5 alone (Bob's follow); B1 and B2 alone (a backlog of 2).
    assertThat(posts()).extracting(p -> p.getString("username") + ": " + p.getString("text"))
        .containsExactly("Alice: A1\nA2\nA3\nA4", "Alice: A5", "Bob: B1", "Bob: B2");
    String joinedTs = lastAttempt(bridgeId, alice[0]).getString("foreign_id");
    for (int i = 0; i < 4; i++) {
      assertThat(lastAttempt(bridgeId, alice[i]).getString("foreign_id")).as("A" + (i + 1)).isEqualTo(joinedTs);
    }
    assertThat(lastAttempt(bridgeId, alice[4]).getString("foreign_id")).isNotEqualTo(joinedTs);
    assertThat(node.queryValue("SELECT count(*) FROM bridge_messages WHERE bridge_id = $1 AND foreign_id = $2", bridgeId, joinedTs))
        .isEqualTo(4L);

    // An edit or delete of one joined message rewrites its own line only; a message posted alone is deleted.
    String edit = say(node, roomId, "alice", "Alice", new JsonObject().put("msgtype", "swp.edit").put("target_event_id", alice[1])
        .put("body", "A2 & more"));
    awaitDelivered(bridgeId, edit);
    String deleteJoined = say(node, roomId, "alice", "Alice", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", alice[2]));
    awaitDelivered(bridgeId, deleteJoined);
    String deleteAlone = say(node, roomId, "alice", "Alice", new JsonObject().put("msgtype", "swp.delete").put("target_event_id", alice[4]));
    awaitDelivered(bridgeId, deleteAlone);
    assertThat(slack.chat("chat.update", channel)).extracting(FakeSlack.Call::json).containsExactly(
        new JsonObject().put("channel", channel).put("ts", joinedTs).put("text", "A1\nA2 &amp; more\nA3\nA4"),
        new JsonObject().put("channel", channel).put("ts", joinedTs).put("text", "A1\nA2 &amp; more\nA4"));
    assertThat(slack.chat("chat.delete", channel)).extracting(FakeSlack.Call::json)
        .containsExactly(new JsonObject().put("channel", channel).put("ts", lastAttempt(bridgeId, alice[4]).getString("foreign_id")));
  }
}
