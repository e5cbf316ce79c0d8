package com.scairelay.transport.teams;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The text and thread of Teams message activities, as outgoing webhooks write them. */
class ActivityTextTest {
  private static JsonObject activity(String text, JsonObject... mentions) {
    JsonArray entities = new JsonArray();
    for (JsonObject m : mentions) {
      entities.add(m);
    }
    return new JsonObject().put("type", "message").put("text", text).put("entities", entities);
  }

  private static JsonObject mention(String id, String name) {
    return new JsonObject().put("type", "mention").put("mentioned", new JsonObject().put("id", id).put("name", name))
        .put("text", "<at>" + name + "</at>");
  }

  @Test
  void theBotsMentionGoesWhereverItIs() {
    assertThat(ActivityText.plain(activity("<at>Relay</at> hello", mention("28:bot", "Relay")))).isEqualTo("hello");
    assertThat(ActivityText.plain(activity("hello <at>Relay</at> there", mention("28:bot", "Relay")))).isEqualTo("hello there");
    assertThat(ActivityText.plain(activity("hello <at>Relay</at>", mention("28:bot", "Relay")))).isEqualTo("hello");
  }

  @Test
  void whenNoMentionIsABotTheFirstIsTheWebhooks() {
    JsonObject a = activity("<at>Relay Hook</at> ping <at>Bob</at>", mention("00:hook", "Relay Hook"), mention("29:bob", "Bob"));

    assertThat(ActivityText.plain(a)).isEqualTo("ping Bob");
  }

  @Test
  void theRecipientIsTheBotToo() {
    JsonObject a = activity("<at>Bob</at> asks <at>Relay</at> a question", mention("29:bob", "Bob"), mention("x:relay", "Relay"))
        .put("recipient", new JsonObject().put("id", "x:relay"));

    assertThat(ActivityText.plain(a)).isEqualTo("Bob asks a question");
  }

  @Test
  void htmlBecomesTextWithItsLineBreaks() {
    JsonObject a = activity("<div><at>Relay</at> first line</div><div>second &quot;quoted&quot; &#8211; &#x1F600;</div><p>a &lt;tag&gt;</p>"
        + "<p>&unknown; stays</p>", mention("28:bot", "Relay"));

    assertThat(ActivityText.plain(a)).isEqualTo("first line\nsecond \"quoted\" – \uD83D\uDE00\na <tag>\n&unknown; stays");
  }

  @Test
  void nothingButTheMentionIsNothing() {
    assertThat(ActivityText.plain(activity("<at>Relay</at>&nbsp;", mention("28:bot", "Relay")))).isEmpty();
    assertThat(ActivityText.plain(new JsonObject().put("type", "message"))).isEmpty();
  }

  @Test
  void aReplyNamesItsRootInTheConversationId() {
    JsonObject reply = new JsonObject().put("conversation", new JsonObject().put("id", "19:abc@thread.tacv2;messageid=1700000000001"));

    assertThat(ActivityText.threadRoot(reply, "1700000000002")).isEqualTo("1700000000001");
    assertThat(ActivityText.threadRoot(reply, "1700000000001")).as("the root post itself").isNull();
    assertThat(ActivityText.threadRoot(new JsonObject().put("conversation", new JsonObject().put("id", "a:1on1chat")), "5")).isNull();
    assertThat(ActivityText.threadRoot(new JsonObject(), "5")).isNull();
  }
}
