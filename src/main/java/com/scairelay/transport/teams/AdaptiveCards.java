package com.scairelay.transport.teams;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The message a Teams Workflows webhook trigger takes: one Adaptive Card (1.4) as an attachment, which
 * the "Post card in a chat or channel" action of the template posts as it is. The card shows the
 * sender's name in bold above the text; an edit is a new card marked "edited" under the text.
 */
final class AdaptiveCards {
  static final String CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
  static final String SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json";
  static final String VERSION = "1.4";
  static final String EDITED = "(edited)";

  /**
   * The most bytes the text may take in the JSON body. The post action refuses a message of more than
   * about 28 KB ("Request Entity too large", after the trigger already answered 202), so longer text
   * is cut here, where it can be said, with {@link #SHORTENED} at the end.
   */
  static final int MAX_TEXT_BYTES = 24_000;
  static final String SHORTENED = "\n\n… (shortened: Teams takes messages of about 28 KB at most)";

  private AdaptiveCards() {
  }

  /** The trigger's body: {@code {"type":"message","attachments":[<the card>]}}. */
  static JsonObject message(String senderName, String text, boolean edited) {
    JsonArray body = new JsonArray()
        .add(new JsonObject().put("type", "TextBlock").put("text", senderName).put("weight", "Bolder").put("wrap", true))
        .add(new JsonObject().put("type", "TextBlock").put("text", fit(text)).put("wrap", true));
    if (edited) {
      body.add(new JsonObject().put("type", "TextBlock").put("text", EDITED).put("isSubtle", true).put("size", "Small")
          .put("spacing", "None").put("wrap", true));
    }
    JsonObject card = new JsonObject()
        .put("$schema", SCHEMA)
        .put("type", "AdaptiveCard")
        .put("version", VERSION)
        .put("body", body);
    JsonObject attachment = new JsonObject()
        .put("contentType", CONTENT_TYPE)
        .putNull("contentUrl")
        .put("content", card);
    return new JsonObject().put("type", "message").put("attachments", new JsonArray().add(attachment));
  }

  /** {@code text} whole when its JSON form fits {@link #MAX_TEXT_BYTES}; otherwise cut at a character and marked. */
  static String fit(String text) {
    if (jsonBytes(text, text.length()) <= MAX_TEXT_BYTES) {
      return text;
    }
    int budget = MAX_TEXT_BYTES - jsonBytes(SHORTENED, SHORTENED.length());
    int used = 0;
    int end = 0;
    while (end < text.length()) {
      int cp = text.codePointAt(end);
      int size = jsonBytes(cp);
      if (used + size > budget) {
        break;
      }
      used += size;
      end += Character.charCount(cp);
    }
    return text.substring(0, end) + SHORTENED;
  }

  private static int jsonBytes(String text, int end) {
    int bytes = 0;
    for (int i = 0; i < end; ) {
      int cp = text.codePointAt(i);
      bytes += jsonBytes(cp);
      i += Character.charCount(cp);
    }
    return bytes;
  }

  /** The bytes one code point takes in a JSON string: escaped ({@code \"}, {@code \n}, {@code \u0001}) or UTF-8. */
  private static int jsonBytes(int cp) {
    if (cp == '"' || cp == '\\' || cp == '\n' || cp == '\r' || cp == '\t' || cp == '\b' || cp == '\f') {
      return 2;
    }
    if (cp < 0x20) {
      return 6;
    }
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
}
