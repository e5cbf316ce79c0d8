package com.scairelay.transport.slack;

import com.scairelay.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static com.scairelay.transport.slack.SlackTestBridges.BOT_ID;
import static com.scairelay.transport.slack.SlackTestBridges.BOT_USER;
import static com.scairelay.transport.slack.SlackTestBridges.SIGNING_SECRET;
import static com.scairelay.transport.slack.SlackTestBridges.TEAM;
import static com.scairelay.transport.slack.SlackTestBridges.TOKEN;
import static com.scairelay.transport.slack.SlackTestBridges.create;
import static com.scairelay.transport.slack.SlackTestBridges.slackBridge;
import static org.assertj.core.api.Assertions.assertThat;

/** Creating a Slack bridge: its fields, the bot token checked with {@code auth.test}, its secrets kept out of sight. */
class SlackBridgeSetupTest {
  static Vertx slackVertx;
  static FakeSlack slack;
  static TestNode node;
  String roomId;

  @BeforeAll
  static void start() {
    slackVertx = Vertx.vertx();
    slack = FakeSlack.start(slackVertx);
    SlackTestBridges.installWorkspace(slack);
    slack.install("xoxb-other-workspace", new FakeSlack.Install("T0OTHER99", "Globex", "U0GLOBEXBOT", "B0GLOBEXBOT"));
    node = TestNode.start(SlackTestBridges.env(slack, Map.of()));
  }

  @AfterAll
  static void stop() {
    node.close();
    slack.close();
    slackVertx.close().await();
  }

  @BeforeEach
  void room() {
    roomId = node.createRoom("slack setup").getString("room_id");
  }

  private static void assertProblem(HttpResponse<Buffer> response, int status, String... detailParts) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detailParts);
  }

  @Test
  void aBridgeIsCheckedWithAuthTestAndKeepsTheBotsIdsButNeverShowsItsSecrets() {
    int before = slack.calls("auth.test").size();
    HttpResponse<Buffer> response = create(node, slackBridge(roomId, "both", "C0GENERAL"));

    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    JsonObject created = response.bodyAsJsonObject();
    assertThat(created.getString("transport")).isEqualTo("slack");
    assertThat(created.getString("slack_team_id")).isEqualTo(TEAM);
    assertThat(created.getString("slack_channel_id")).isEqualTo("C0GENERAL");
    assertThat(created.getString("slack_bot_id")).isEqualTo(BOT_ID);
    assertThat(created.getString("slack_bot_user_id")).isEqualTo(BOT_USER);
    assertThat(slack.calls("auth.test")).hasSize(before + 1);
    FakeSlack.Call authTest = slack.calls("auth.test").get(before);
    assertThat(authTest.headers().get("Authorization")).isEqualTo("Bearer " + TOKEN);

    String bridgeId = created.getString("bridge_id");
    String shown = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId), null).bodyAsString()
        + node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges"), null).bodyAsString() + response.bodyAsString();
    assertThat(shown).doesNotContain(TOKEN).doesNotContain(SIGNING_SECRET);
    String row = (String) node.queryValue("SELECT row_to_json(b)::text FROM bridges b WHERE id = $1", bridgeId);
    assertThat(row).doesNotContain(TOKEN).doesNotContain(SIGNING_SECRET);
    for (String secret : new String[] {TOKEN, SIGNING_SECRET}) {
      assertThat(node.queryValue("SELECT position(convert_to($2, 'UTF8') in credentials_enc) FROM bridges WHERE id = $1", bridgeId, secret))
          .as("credentials are encrypted at rest").isEqualTo(0);
    }
  }

  @Test
  void aTokenSlackRefusesIs400NamingTheTokenAndSlacksError() {
    HttpResponse<Buffer> response = create(node, slackBridge(roomId, "outbound", "C0GENERAL").put("slack_bot_token", "xoxb-revoked"));

    assertProblem(response, 400, "slack_bot_token", "invalid_auth");
    assertThat(bridgeCount()).isZero();
  }

  @Test
  void aTokenOfAnotherWorkspaceIs400NamingTheTeam() {
    HttpResponse<Buffer> response = create(node, slackBridge(roomId, "both", "C0GENERAL").put("slack_bot_token", "xoxb-other-workspace"));

    assertProblem(response, 400, "slack_team_id", TEAM, "T0OTHER99");
    assertThat(bridgeCount()).isZero();
  }

  @Test
  void slackThatCannotBeReachedIsABadGatewayWithTheReason() {
    slack.script("auth.test", FakeSlack.Answer.closeConnection());
    assertProblem(create(node, slackBridge(roomId, "outbound", "C0GENERAL")), 502, "could not reach Slack", "slack_bot_token");

    slack.script("auth.test", FakeSlack.Answer.status(503));
    assertProblem(create(node, slackBridge(roomId, "outbound", "C0GENERAL")), 502, "HTTP 503", "slack_bot_token");

    slack.script("auth.test", FakeSlack.Answer.tooManyRequests(7));
    HttpResponse<Buffer> limited = create(node, slackBridge(roomId, "outbound", "C0GENERAL"));
    assertProblem(limited, 503, "rate-limited", "7 s");
    assertThat(limited.getHeader("Retry-After")).isEqualTo("7");
    assertThat(bridgeCount()).isZero();
  }

  @Test
  void eachDirectionNeedsItsOwnCredentialsAndTheIdsMustBeSlacks() {
    int before = slack.calls("auth.test").size();
    assertProblem(create(node, slackBridge(roomId, "inbound", "C0GENERAL").putNull("slack_signing_secret")), 400, "slack_signing_secret");
    assertProblem(create(node, slackBridge(roomId, "outbound", "C0GENERAL").putNull("slack_bot_token")), 400, "slack_bot_token");
    assertProblem(create(node, slackBridge(roomId, "both", "C0GENERAL").put("slack_bot_token", "xoxp-a-user-token")), 400,
        "slack_bot_token", "xoxb-");
    assertProblem(create(node, slackBridge(roomId, "both", "C0GENERAL").putNull("slack_team_id")), 400, "slack_team_id");
    assertProblem(create(node, slackBridge(roomId, "both", "#general")), 400, "slack_channel_id", "#general");
    assertThat(slack.calls("auth.test")).as("nothing is asked of Slack for a request that is wrong as it is").hasSize(before);
    assertThat(bridgeCount()).isZero();
  }

  @Test
  void anInboundOnlyBridgeNeedsNoBotToken() {
    int before = slack.calls("auth.test").size();
    HttpResponse<Buffer> response = create(node, slackBridge(roomId, "inbound", "C0GENERAL").putNull("slack_bot_token"));

    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    assertThat(response.bodyAsJsonObject().getString("slack_bot_id")).isNull();
    assertThat(slack.calls("auth.test")).hasSize(before);
  }

  private long bridgeCount() {
    return (Long) node.queryValue("SELECT count(*) FROM bridges WHERE room_id = $1", roomId);
  }
}
