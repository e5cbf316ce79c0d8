package com.scairelay.transport.slack;

import com.scairelay.config.RelayConfig;
import com.scairelay.support.MutableClock;
import com.scairelay.transport.Delivery;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportResult;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's error table, answer by answer, and which ready deliveries are joined into one post. */
class SlackAnswersTest {
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));

  private TransportResult read(int status, String body, String retryAfter, SlackApi.Reading reading) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (retryAfter != null) {
      headers.set("Retry-After", retryAfter);
    }
    return SlackApi.result(new HttpAnswer(status, headers, body == null ? null : Buffer.buffer(body), 12, clock), reading);
  }

  private TransportResult error(String code) {
    return read(200, new JsonObject().put("ok", false).put("error", code).encode(), null, SlackApi.Reading.POST);
  }

  @Test
  void okIsDeliveredAndAPostsTsIsItsForeignId() {
    TransportResult posted = read(200, "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}", null, SlackApi.Reading.POST);
    assertThat(posted.outcome()).isEqualTo(Outcome.DELIVERED);
    assertThat(posted.foreignId()).isEqualTo("1700000000.000100");
    assertThat(posted.latencyMs()).isEqualTo(12);

    TransportResult updated = read(200, "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}", null, SlackApi.Reading.UPDATE);
    assertThat(updated.outcome()).isEqualTo(Outcome.DELIVERED);
    assertThat(updated.foreignId()).as("an edited message keeps its id").isNull();
  }

  @Test
  void rateLimitsHonourRetryAfterWhetherHttp429OrOkFalse() {
    TransportResult http = read(429, "", "30", SlackApi.Reading.POST);
    assertThat(http.outcome()).isEqualTo(Outcome.RATE_LIMITED);
    assertThat(http.retryAfterMs()).isEqualTo(30_000L);

    for (String code : List.of("ratelimited", "rate_limited")) {
      TransportResult json = read(200, "{\"ok\":false,\"error\":\"" + code + "\"}", "5", SlackApi.Reading.POST);
      assertThat(json.outcome()).as(code).isEqualTo(Outcome.RATE_LIMITED);
      assertThat(json.retryAfterMs()).as(code).isEqualTo(5_000L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "is_archived", "token_revoked",
      "token_expired", "missing_scope", "not_authed", "restricted_action", "restricted_action_read_only_channel"})
  void refusalsOfTheBridgesOwnSettingsBreakTheBridge(String code) {
    TransportResult result = error(code);
    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.broken()).isTrue();
    assertThat(result.error()).isEqualTo("Slack: " + code);
  }

  @ParameterizedTest
  @ValueSource(strings = {"msg_too_long", "no_text", "invalid_blocks", "cant_update_message", "message_not_found", "edit_window_closed"})
  void refusalsOfOneMessageFailItAlone(String code) {
    TransportResult result = error(code);
    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.broken()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "some_new_error"})
  void otherErrorsAreTransient(String code) {
    TransportResult result = error(code);
    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.error()).contains(code);
  }

  @Test
  void serverErrorsAndAnswersThatAreNotSlacksJsonAreTransientOther4xxPermanent() {
    assertThat(read(503, "<html>down</html>", null, SlackApi.Reading.POST).outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(read(200, "<html>a proxy</html>", null, SlackApi.Reading.POST).outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(read(200, "{\"ok\":false}", null, SlackApi.Reading.POST).outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(read(404, "", null, SlackApi.Reading.POST).outcome()).isEqualTo(Outcome.PERMANENT);
  }

  @Test
  void deletingAMessageThatIsGoneAlreadyIsDelivered() {
    TransportResult result = read(200, "{\"ok\":false,\"error\":\"message_not_found\"}", null, SlackApi.Reading.DELETE);
    assertThat(result.outcome()).isEqualTo(Outcome.DELIVERED);
    assertThat(result.error()).contains("gone");
  }

  // Coalescing: backlog 3, at most 4 per post.

  final SlackConnector connector = new SlackConnector(new RelayConfig.Platforms("http://127.0.0.1:1/api", Duration.ofMillis(1000), 3, 4,
      Duration.ofSeconds(60), "http://127.0.0.1:1/api", "ws://127.0.0.1:1", Duration.ofMillis(250)));
  long ids;

  private Delivery message(String sender, String body) {
    return delivery(sender, new JsonObject().put("msgtype", "swp.text").put("body", body), null);
  }

  private Delivery delivery(String sender, JsonObject content, String threadId) {
    JsonObject payload = new JsonObject().put("event_id", "ev" + ids).put("sender", new JsonObject().put("fqid", sender))
        .put("content", content).put("thread_id", threadId).put("foreign", new JsonObject());
    return new Delivery(++ids, "ev" + ids, payload, new JsonObject().put("slack_channel_id", "C1"), "s", Instant.EPOCH);
  }

  @Test
  void aSenderWithoutADisplayNamePostsUnderTheIdItHasOnItsOwnSide() {
    assertThat(new JsonObject(connector.render(message("@bridge_brg__0a1b._u0_a_l_i_c_e:relay.test", "x")).body()).getString("username"))
        .as("a shadow: its Slack user id").isEqualTo("U0ALICE");
    assertThat(new JsonObject(connector.render(message("@alice:relay.test", "x")).body()).getString("username"))
        .as("a native: its fqid").isEqualTo("@alice:relay.test");
  }

  @Test
  void aRunOfOneSendersPlainMessagesIsJoinedOnceTheBacklogIsLongEnough() {
    assertThat(connector.coalesces()).isTrue();
    assertThat(connector.coalesce(List.of(message("a", "1"), message("a", "2")))).as("a backlog of 2").isEqualTo(1);
    assertThat(connector.coalesce(List.of(message("a", "1"), message("a", "2"), message("a", "3")))).isEqualTo(3);
    assertThat(connector.coalesce(List.of(message("a", "1"), message("a", "2"), message("b", "3"), message("a", "4")))).isEqualTo(2);
    List<Delivery> six = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      six.add(message("a", "m" + i));
    }
    assertThat(connector.coalesce(six)).as("slack.coalesce_max").isEqualTo(4);
  }

  @Test
  void threadsEditsDeletesAndLongTextsAreNotJoined() {
    JsonObject edit = new JsonObject().put("msgtype", "swp.edit").put("target_event_id", "ev1").put("body", "x");
    assertThat(connector.coalesce(List.of(delivery("a", edit, null), message("a", "2"), message("a", "3")))).isEqualTo(1);
    assertThat(connector.coalesce(List.of(message("a", "1"), delivery("a", edit, null), message("a", "3")))).isEqualTo(1);
    assertThat(connector.coalesce(List.of(message("a", "1"), delivery("a", new JsonObject().put("msgtype", "swp.text").put("body", "t"),
        "ev-root"), message("a", "3")))).isEqualTo(1);
    assertThat(connector.coalesce(List.of(delivery("a", new JsonObject().put("msgtype", "swp.text").put("body", "t"), "ev-root"),
        message("a", "2"), message("a", "3")))).isEqualTo(1);
    String long3000 = "x".repeat(3_000);
    assertThat(connector.coalesce(List.of(message("a", long3000), message("a", long3000), message("a", "3")))).isEqualTo(1);
  }
}
