package com.scairelay.transport.slack;

import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.transport.ForeignIds.ForeignMessage;
import com.scairelay.transport.Inbound;
import com.scairelay.transport.InboundAdapter;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundContext;
import com.scairelay.transport.InboundEvent;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import static com.scairelay.transport.slack.SlackApi.string;
import static com.scairelay.transport.slack.SlackConnector.BOT_ID;
import static com.scairelay.transport.slack.SlackConnector.BOT_TOKEN;
import static com.scairelay.transport.slack.SlackConnector.BOT_USER;
import static com.scairelay.transport.slack.SlackConnector.CHANNEL;
import static com.scairelay.transport.slack.SlackConnector.SIGNING_SECRET;
import static com.scairelay.transport.slack.SlackConnector.TEAM;

/**
 * Slack's Events API into a bridge: {@code POST /v1/bridges/{id}/slack/events}. Slack wants a 2xx
 * within 3 seconds, so an event is read from the request alone (and our own database), stored and
 * answered 200; Slack is asked for the sender's profile ({@code users.info}) only after the answer,
 * and the shadow participant updated then. Slack's retries of an event carry the same envelope
 * {@code event_id}, which is the dedupe key; the message's {@code ts} is its id on the bridge (threads,
 * edits and deletes name it).
 */
final class SlackInbound implements InboundAdapter {
  private static final Logger log = LoggerFactory.getLogger(SlackInbound.class);
  static final String PATH = "slack/events";
  /** Subtypes that are a message someone wrote; every other subtype (joins, topics, …) is not bridged. */
  private static final Set<String> MESSAGES = Set.of("thread_broadcast", "me_message", "file_share", "bot_message");
  /** Who a deletion is attributed to when Slack does not say whose message it was. */
  private static final String SLACKBOT = "USLACKBOT";
  private static final int MAX_ID = 255;

  private final SlackProfiles profiles;

  SlackInbound(SlackProfiles profiles) {
    this.profiles = profiles;
  }

  @Override
  public String path() {
    return PATH;
  }

  @Override
  public Optional<String> verify(MultiMap headers, Buffer body, InboundBridge bridge, Instant now, Duration tolerance) {
    return SlackSignature.verify(headers, body, string(bridge.credentials(), SIGNING_SECRET), now, tolerance);
  }

  @Override
  public Future<Inbound> read(MultiMap headers, Buffer body, InboundBridge bridge, InboundContext context) {
    try {
      return read(JsonBody.parse(body), bridge, context);
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
  }

  /** Slack is answered 200 whatever became of the event: a 202 is a 2xx too, but Slack documents 200. */
  @Override
  public Inbound.Reply stored(String eventId, boolean duplicate) {
    return new Inbound.Reply(200, new JsonObject().put("ok", true).put("event_id", eventId).put("duplicate", duplicate));
  }

  private Future<Inbound> read(JsonObject envelope, InboundBridge bridge, InboundContext context) {
    String type = JsonBody.requiredString(envelope, "type", 64);
    if (type.equals("url_verification")) {
      return Future.succeededFuture(new Inbound.Reply(200,
          new JsonObject().put("challenge", JsonBody.requiredString(envelope, "challenge", 1024))));
    }
    if (!type.equals("event_callback")) {
      return ignored("envelope type '" + type + "' is not bridged");
    }
    String team = JsonBody.optionalString(envelope, "team_id", MAX_ID);
    if (!Objects.equals(team, bridge.config().getString(TEAM))) {
      return ignored("team " + team + " is not this bridge's team " + bridge.config().getString(TEAM));
    }
    JsonObject event = JsonBody.requiredObject(envelope, "event");
    String eventType = JsonBody.optionalString(event, "event.type", 64);
    if (!"message".equals(eventType)) {
      return ignored("event type '" + eventType + "' is not bridged");
    }
    String channel = JsonBody.optionalString(event, "event.channel", MAX_ID);
    if (!Objects.equals(channel, bridge.config().getString(CHANNEL))) {
      return ignored("channel " + channel + " is not this bridge's channel " + bridge.config().getString(CHANNEL));
    }
    String eventId = JsonBody.requiredString(envelope, "event_id", MAX_ID);
    String subtype = JsonBody.optionalString(event, "event.subtype", 64);
    if (subtype == null || MESSAGES.contains(subtype)) {
      return message(eventId, event, bridge, context);
    }
    if (subtype.equals("message_changed")) {
      return edit(eventId, event, bridge, context);
    }
    if (subtype.equals("message_deleted")) {
      return delete(eventId, event, bridge, context);
    }
    return ignored("message subtype '" + subtype + "' is not bridged");
  }

  /** A new message; {@code thread_ts} other than its own {@code ts} puts it in the thread of that message. */
  private Future<Inbound> message(String eventId, JsonObject event, InboundBridge bridge, InboundContext context) {
    String ts = JsonBody.requiredString(event, "event.ts", 64);
    if (isOurBot(event, bridge)) {
      return ignored("our own post (message " + ts + " of our bot)");
    }
    String text = JsonBody.optionalString(event, "event.text", 40_000);
    if (text == null || text.isBlank()) {
      return ignored("message " + ts + " has no text (files and attachments alone are not bridged)");
    }
    String threadTs = JsonBody.optionalString(event, "event.thread_ts", 64);
    String threadId = threadTs == null || threadTs.equals(ts) ? null : threadTs;
    return context.foreignIds().find(bridge.id(), ts).map(found -> {
      if (found.isPresent() && found.get().ours()) {
        return Inbound.ignored("our own post (message " + ts + " was created by a delivery of event " + found.get().eventId() + ")");
      }
      JsonObject content = new JsonObject().put("msgtype", "swp.text").put("body", SlackText.unescape(text));
      return store(eventId, event, content, threadId, ts, bridge, context);
    });
  }

  /**
   * {@code message_changed}: an edit of the message {@code message.ts}, when the bridge knows it; a
   * {@code tombstone} in its place is its deletion.
   */
  private Future<Inbound> edit(String eventId, JsonObject event, InboundBridge bridge, InboundContext context) {
    JsonObject message = JsonBody.requiredObject(event, "event.message");
    String originalTs = JsonBody.requiredString(message, "event.message.ts", 64);
    if (isOurBot(message, bridge)) {
      return ignored("an edit of our own post (message " + originalTs + " of our bot)");
    }
    if ("tombstone".equals(string(message, "subtype"))) {
      // A thread's root deleted while its replies stay: Slack keeps a placeholder in its place.
      return delete(eventId, event.copy().put("deleted_ts", originalTs), bridge, context);
    }
    String text = JsonBody.optionalString(message, "event.message.text", 40_000);
    JsonObject previous = event.getValue("previous_message") instanceof JsonObject p ? p : null;
    if (previous != null && Objects.equals(text, string(previous, "text"))) {
      return ignored("message " + originalTs + " changed but not its text (an unfurl, an attachment, a reply count)");
    }
    return context.foreignIds().find(bridge.id(), originalTs).map(found -> {
      Optional<Inbound> skip = unknownOrOurs(found, originalTs, "edited");
      if (skip.isPresent()) {
        return skip.get();
      }
      JsonObject content = new JsonObject().put("msgtype", "swp.edit").put("target_event_id", found.get().eventId())
          .put("body", SlackText.unescape(text == null ? "" : text));
      return store(eventId, message, content, null, changeId(event, eventId), bridge, context);
    });
  }

  /** {@code message_deleted}: a delete of the message {@code deleted_ts}, when the bridge knows it. */
  private Future<Inbound> delete(String eventId, JsonObject event, InboundBridge bridge, InboundContext context) {
    String deletedTs = JsonBody.requiredString(event, "event.deleted_ts", 64);
    JsonObject previous = event.getValue("previous_message") instanceof JsonObject p ? p : new JsonObject();
    if (isOurBot(previous, bridge)) {
      return ignored("the deletion of our own post (message " + deletedTs + " of our bot)");
    }
    return context.foreignIds().find(bridge.id(), deletedTs).map(found -> {
      Optional<Inbound> skip = unknownOrOurs(found, deletedTs, "deleted");
      if (skip.isPresent()) {
        return skip.get();
      }
      JsonObject content = new JsonObject().put("msgtype", "swp.delete").put("target_event_id", found.get().eventId());
      JsonObject author = string(previous, "user") != null || string(previous, "bot_id") != null
          ? previous : new JsonObject().put("user", SLACKBOT);
      return store(eventId, author, content, null, changeId(event, eventId), bridge, context);
    });
  }

  /**
   * The answer that ignores a change of message {@code ts}: one the bridge never saw, or one a delivery
   * of ours created (our own {@code chat.update} or {@code chat.delete}, heard again); empty when it is bridged.
   */
  private static Optional<Inbound> unknownOrOurs(Optional<ForeignMessage> found, String ts, String what) {
    if (found.isEmpty()) {
      return Optional.of(Inbound.ignored("the " + what + " message " + ts + " is not known on this bridge"));
    }
    if (found.get().ours()) {
      return Optional.of(Inbound.ignored("the " + what + " message " + ts + " was created by a delivery of ours (our own change)"));
    }
    return Optional.empty();
  }

  /**
   * The event to store, sent by the shadow of the message's author, named as Slack last told us; when
   * the profile is not known yet (or is stale) it is asked for after the answer.
   */
  private Inbound store(String eventId, JsonObject message, JsonObject content, String threadId, String messageId,
                        InboundBridge bridge, InboundContext context) {
    String team = bridge.config().getString(TEAM);
    String user = string(message, "user");
    String bot = string(message, "bot_id");
    String externalId = user != null ? user : bot != null ? bot : SLACKBOT;
    String displayName = null;
    String avatarUrl = null;
    Runnable afterAnswer = () -> { };
    Optional<SlackProfiles.Profile> cached = user == null ? Optional.empty() : profiles.cached(team, user, context.clock().instant());
    if (cached.isPresent()) {
      displayName = cached.get().displayName();
      avatarUrl = cached.get().avatarUrl();
    } else if (user == null) {
      displayName = string(message, "username");
      JsonObject icons = message.getValue("icons") instanceof JsonObject i ? i : new JsonObject();
      avatarUrl = string(icons, "image_72") != null ? string(icons, "image_72") : string(icons, "image_48");
    } else {
      JsonObject shown = message.getValue("user_profile") instanceof JsonObject p ? p : null;
      if (shown != null) {
        SlackProfiles.Profile profile = SlackProfiles.profile(new JsonObject().put("profile", shown).put("name", string(shown, "name")));
        displayName = profile.displayName();
        avatarUrl = profile.avatarUrl();
      }
      String token = string(bridge.credentials(), BOT_TOKEN);
      if (token != null) {
        afterAnswer = () -> context.sender().vertx().runOnContext(v -> updateProfile(bridge, context, token, team, user));
      }
    }
    InboundEvent stored = new InboundEvent(eventId, InboundEvent.sender(externalId, displayName, avatarUrl), externalId, displayName,
        avatarUrl, content, threadId, null, messageId);
    return new Inbound.Store(stored, afterAnswer);
  }

  /** Runs after Slack was answered: {@code users.info}, then the shadow participant's name and avatar. */
  private void updateProfile(InboundBridge bridge, InboundContext context, String token, String team, String user) {
    profiles.fetch(context.sender(), token, team, user)
        .compose(profile -> profile.isEmpty() ? Future.succeededFuture()
            : context.profiles().update(bridge.id(), user, profile.get().displayName(), profile.get().avatarUrl()))
        .onFailure(err -> log.info("bridge {}: the Slack profile of {} was not updated: {}", bridge.id(), user, err.getMessage()));
  }

  /** The id of an edit or delete itself: the change's own {@code ts}, never the message's (which stays the original's). */
  private static String changeId(JsonObject event, String eventId) {
    String ts = string(event, "ts");
    return ts != null ? "change:" + ts : "change:" + eventId;
  }

  /** A message of the bridge's own bot: what our deliveries posted, heard again. */
  private static boolean isOurBot(JsonObject message, InboundBridge bridge) {
    String botId = bridge.config().getString(BOT_ID);
    String botUser = bridge.config().getString(BOT_USER);
    return (botId != null && botId.equals(string(message, "bot_id"))) || (botUser != null && botUser.equals(string(message, "user")));
  }

  private static Future<Inbound> ignored(String why) {
    return Future.succeededFuture(Inbound.ignored(why));
  }
}
