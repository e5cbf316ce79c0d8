package com.scairelay.transport.discord;

import com.scairelay.transport.ForeignIds;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Optional;

/**
 * What a Gateway dispatch of a bridged channel means for one bridge, as Discord documents messages
 * (https://discord.com/developers/docs/resources/message): a {@code MESSAGE_CREATE} of a person is a text
 * event (its id the dedupe key and message id, its author a shadow participant, a reply naming the message
 * it answers); a {@code MESSAGE_UPDATE} that edited the text of a message the bridge brought in is an edit
 * of its event, a {@code MESSAGE_DELETE} of one a delete. The bridge's own webhook posts and its bot's
 * messages are our echoes and come to nothing, as do system messages and edits of what we posted.
 */
final class DiscordInbound {
  private static final String CDN = "https://cdn.discordapp.com";
  /** Message types a person writes: DEFAULT and REPLY; the others are Discord's (joins, pins, boosts...). */
  private static final int DEFAULT = 0;
  private static final int REPLY = 19;
  /** Discord does not say who deleted a message: deletes come from this shadow participant. */
  static final String DELETER_ID = "discord";
  private static final String DELETER_NAME = "Discord";

  private final ForeignIds foreignIds;
  /** The webhooks of every Discord bridge of the node's database: what they post is ours, whichever bridge hears it. */
  private volatile java.util.Set<String> ourWebhooks = java.util.Set.of();

  DiscordInbound(ForeignIds foreignIds) {
    this.foreignIds = foreignIds;
  }

  /** Learns the webhooks of every Discord bridge (an outbound-only bridge of a channel another bridge listens to). */
  void ourWebhooks(List<InboundBridge> bridges) {
    ourWebhooks = bridges.stream().map(b -> b.config().getString(DiscordPoster.CONFIG_WEBHOOK_ID)).filter(java.util.Objects::nonNull)
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /** True when the dispatch's message is of the bridge's channel. */
  static boolean ofChannel(InboundBridge bridge, JsonObject message) {
    String channel = bridge.config().getString(DiscordBridgeSetup.CONFIG_CHANNEL_ID);
    return channel != null && channel.equals(message.getString("channel_id"));
  }

  /** The event a new message is, or empty: an echo of ours, a system message, nothing to show. */
  Optional<InboundEvent> created(InboundBridge bridge, JsonObject message) {
    int type = message.getValue("type") instanceof Number n ? n.intValue() : DEFAULT;
    String id = message.getString("id");
    JsonObject author = message.getJsonObject("author");
    if ((type != DEFAULT && type != REPLY) || id == null || author == null || isOurs(bridge, message)) {
      return Optional.empty();
    }
    String text = text(message);
    if (text.isBlank()) {
      return Optional.empty();
    }
    JsonObject reference = message.getJsonObject("message_reference");
    String replyTo = type == REPLY && reference != null ? reference.getString("message_id") : null;
    return Optional.of(event(id, author, message, new JsonObject().put("msgtype", "swp.text").put("body", text), replyTo));
  }

  /** The edit a changed message is: of a message the bridge brought in, whose text a person edited. */
  Future<Optional<InboundEvent>> updated(InboundBridge bridge, JsonObject message) {
    String id = message.getString("id");
    String editedAt = message.getString("edited_timestamp");
    if (id == null || editedAt == null || isOurs(bridge, message)) {
      return Future.succeededFuture(Optional.empty()); // no edited_timestamp: Discord added an embed, nobody edited
    }
    JsonObject author = message.getJsonObject("author", new JsonObject().put("id", DELETER_ID).put("username", DELETER_NAME));
    return theirs(bridge, id).map(original -> original.map(eventId -> event("edit:" + id + ":" + editedAt, author, message,
        new JsonObject().put("msgtype", "swp.edit").put("target_event_id", eventId).put("body", text(message)), null)));
  }

  /** The delete a removed message is: of a message the bridge brought in. */
  Future<Optional<InboundEvent>> deleted(InboundBridge bridge, String messageId) {
    JsonObject deleter = new JsonObject().put("id", DELETER_ID).put("username", DELETER_NAME);
    return theirs(bridge, messageId).map(original -> original.map(eventId -> event("delete:" + messageId, deleter,
        new JsonObject().put("id", messageId), new JsonObject().put("msgtype", "swp.delete").put("target_event_id", eventId), null)));
  }

  /**
   * Our event behind a Discord message the bridge brought in. One our delivery posted is not: its edit or
   * delete is our own (or a moderator's on the copy, which is not the original's).
   */
  private Future<Optional<String>> theirs(InboundBridge bridge, String messageId) {
    return foreignIds.find(bridge.id(), messageId)
        .map(found -> found.filter(m -> !m.ours()).map(ForeignIds.ForeignMessage::eventId));
  }

  /** Posted by the webhook of this or any other Discord bridge, or by the bridge's bot: an echo of our own delivery. */
  private boolean isOurs(InboundBridge bridge, JsonObject message) {
    String webhookId = message.getString("webhook_id");
    if (webhookId != null && (webhookId.equals(bridge.config().getString(DiscordPoster.CONFIG_WEBHOOK_ID)) || ourWebhooks.contains(webhookId))) {
      return true;
    }
    JsonObject author = message.getJsonObject("author");
    String botId = bridge.config().getString(DiscordBridgeSetup.CONFIG_BOT_USER_ID);
    return author != null && botId != null && botId.equals(author.getString("id"));
  }

  /** The content, then each attachment's URL on a line of its own. */
  private static String text(JsonObject message) {
    StringBuilder text = new StringBuilder(message.getString("content", ""));
    if (message.getValue("attachments") instanceof JsonArray attachments) {
      for (Object attachment : attachments) {
        if (attachment instanceof JsonObject file && file.getString("url") != null) {
          text.append(text.length() == 0 ? "" : "\n").append(file.getString("url"));
        }
      }
    }
    return text.toString();
  }

  private static InboundEvent event(String eventId, JsonObject author, JsonObject message, JsonObject content, String replyTo) {
    String authorId = author.getString("id");
    String name = displayName(author, message.getJsonObject("member"));
    String avatar = avatarUrl(author, message.getJsonObject("member"), message.getString("guild_id"));
    return new InboundEvent(eventId, InboundEvent.sender(authorId, name, avatar), authorId, name, avatar, content, null, replyTo,
        message.getString("id"));
  }

  /** The server nickname, else the user's display name, else the username. */
  static String displayName(JsonObject author, JsonObject member) {
    String nick = member == null ? null : member.getString("nick");
    String global = author.getString("global_name");
    return nick != null && !nick.isBlank() ? nick : global != null && !global.isBlank() ? global : author.getString("username");
  }

  /** The CDN URL of the server avatar, else of the user's avatar ({@code a_} hashes are animated); null without one. */
  static String avatarUrl(JsonObject author, JsonObject member, String guildId) {
    String userId = author.getString("id");
    String memberAvatar = member == null ? null : member.getString("avatar");
    if (memberAvatar != null && guildId != null) {
      return CDN + "/guilds/" + guildId + "/users/" + userId + "/avatars/" + memberAvatar + extension(memberAvatar);
    }
    String avatar = author.getString("avatar");
    return avatar == null ? null : CDN + "/avatars/" + userId + "/" + avatar + extension(avatar);
  }

  private static String extension(String hash) {
    return hash.startsWith("a_") ? ".gif" : ".png";
  }
}
