package com.scairelay.transport.teams;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Teams message activity says, as plain text: the outgoing webhook's own mention taken out
 * ({@code <at>Name</at>}, as its {@code mention} entity writes it), other mentions left as the name,
 * line breaks kept, every other HTML tag removed, entities unescaped, trimmed. And which channel thread
 * the activity is a reply in.
 */
final class ActivityText {
  private static final Pattern LINE_BREAK = Pattern.compile("(?i)<br\\s*/?>|</(?:p|div|li|tr|h[1-6])\\s*>");
  private static final Pattern TAG = Pattern.compile("<[^>]*>");
  private static final Pattern ENTITY = Pattern.compile("&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));");
  private static final Pattern SPACE_BEFORE_BREAK = Pattern.compile("[ \\t]+\\n");
  private static final Pattern BLANK_LINES = Pattern.compile("\\n{3,}");
  private static final String THREAD_MARK = ";messageid=";
  /** Bots, outgoing webhooks among them, have Teams ids that start so; users have {@code 29:}. */
  private static final String BOT_ID_PREFIX = "28:";

  private ActivityText() {
  }

  /** The activity's {@code text} as plain text without the bot's mention; empty when nothing else is said. */
  static String plain(JsonObject activity) {
    String text = activity.getValue("text") instanceof String s ? s : "";
    for (String mention : botMentions(activity)) {
      text = text.replace(mention + " ", "").replace(mention + "&nbsp;", "").replace(mention, "");
    }
    text = LINE_BREAK.matcher(text).replaceAll("\n");
    text = TAG.matcher(text).replaceAll("");
    text = unescape(text).replace('\u00a0', ' ').replace("\r\n", "\n");
    text = SPACE_BEFORE_BREAK.matcher(text).replaceAll("\n");
    text = BLANK_LINES.matcher(text).replaceAll("\n\n");
    return text.strip();
  }

  /**
   * The root message of the channel thread the activity is a reply in: Teams names it in the
   * conversation id ({@code 19:…@thread.tacv2;messageid=<root id>}). Null for a new post (its
   * conversation names the post itself) and outside channels.
   */
  static String threadRoot(JsonObject activity, String activityId) {
    JsonObject conversation = activity.getValue("conversation") instanceof JsonObject c ? c : null;
    String id = conversation != null && conversation.getValue("id") instanceof String s ? s : null;
    int mark = id == null ? -1 : id.indexOf(THREAD_MARK);
    if (mark < 0) {
      return null;
    }
    String root = id.substring(mark + THREAD_MARK.length());
    int end = root.indexOf(';');
    root = (end < 0 ? root : root.substring(0, end)).strip();
    return root.isEmpty() || root.equals(activityId) ? null : root;
  }

  /**
   * How the bot's mention is written in the text: the {@code text} of each {@code mention} entity of a
   * bot (its id starts with {@code 28:}, or it is the activity's recipient); when no mention names a
   * bot, the first mention, which is the one that made Teams call the webhook.
   */
  private static List<String> botMentions(JsonObject activity) {
    List<String> all = new ArrayList<>();
    List<String> bots = new ArrayList<>();
    String recipient = activity.getValue("recipient") instanceof JsonObject r && r.getValue("id") instanceof String id ? id : null;
    JsonArray entities = activity.getValue("entities") instanceof JsonArray e ? e : new JsonArray();
    for (Object item : entities) {
      if (!(item instanceof JsonObject entity) || !"mention".equals(entity.getValue("type"))
          || !(entity.getValue("text") instanceof String written) || written.isEmpty()) {
        continue;
      }
      all.add(written);
      String mentioned = entity.getValue("mentioned") instanceof JsonObject m && m.getValue("id") instanceof String id ? id : "";
      if (mentioned.startsWith(BOT_ID_PREFIX) || mentioned.equals(recipient)) {
        bots.add(written);
      }
    }
    return !bots.isEmpty() ? bots : all.isEmpty() ? List.of() : List.of(all.get(0));
  }

  private static String unescape(String text) {
    if (text.indexOf('&') < 0) {
      return text;
    }
    Matcher m = ENTITY.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(entity(m)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String entity(Matcher m) {
    try {
      if (m.group(1) != null || m.group(2) != null) {
        int cp = m.group(1) != null ? Integer.parseInt(m.group(1)) : Integer.parseInt(m.group(2), 16);
        return Character.isValidCodePoint(cp) && cp != 0 && (cp < 0xD800 || cp > 0xDFFF) ? new String(Character.toChars(cp)) : m.group();
      }
    } catch (NumberFormatException e) {
      return m.group();
    }
    return switch (m.group(3)) {
      case "amp" -> "&";
      case "lt" -> "<";
      case "gt" -> ">";
      case "quot" -> "\"";
      case "apos" -> "'";
      case "nbsp" -> " ";
      default -> m.group();
    };
  }
}
