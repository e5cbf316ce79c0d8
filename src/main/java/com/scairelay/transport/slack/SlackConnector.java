package com.scairelay.transport.slack;

import com.scairelay.config.RelayConfig;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.store.Fqids;
import com.scairelay.transport.Connector;
import com.scairelay.transport.Delivery;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.InboundAdapter;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.Pacer;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import static com.scairelay.transport.slack.SlackApi.string;

/**
 * Transport {@code slack} (DESIGN.md §3), both ways, through a Slack app's bot token and signing secret.
 *
 * <p>Outbound, a room event becomes a {@code chat.postMessage} to the bridged channel under the
 * sender's name and avatar ({@code username}, {@code icon_url}), in the Slack thread of its thread root
 * when Slack knows that root; its {@code ts} is the message's foreign id. An edit is a
 * {@code chat.update} and a delete a {@code chat.delete} of the message a delivery made (or Slack sent
 * in). Posts to one channel are paced {@code slack.pace_ms} apart (Slack allows about one a second),
 * waiting, never dropping; once {@code slack.coalesce_backlog} messages are ready, a run of one sender's
 * plain messages is joined into one post of up to {@code slack.coalesce_max} lines, so a busy room does
 * not fall ever further behind: every message of the run is delivered as that one post, with its
 * {@code ts}; an edit or delete of one of them rewrites its line ({@link JoinedPosts}).
 *
 * <p>Inbound is {@link SlackInbound} ({@code POST /v1/bridges/{id}/slack/events}).
 */
public final class SlackConnector implements Connector {
  public static final String NAME = "slack";
  static final String TEAM = "slack_team_id";
  static final String CHANNEL = "slack_channel_id";
  static final String SIGNING_SECRET = "slack_signing_secret";
  static final String BOT_TOKEN = "slack_bot_token";
  static final String BOT_ID = "slack_bot_id";
  static final String BOT_USER = "slack_bot_user_id";
  static final String TEAM_NAME = "slack_team_name";
  /** Slack shows at most 4,000 characters of a message well; a joined post stops growing there. */
  static final int JOINED_MAX_CHARS = 4_000;

  private static final String TEXT = "swp.text";
  private static final String EDIT = "swp.edit";
  private static final String DELETE = "swp.delete";
  private static final int USERNAME_MAX = 80;

  private final SlackApi api;
  private final Pacer pacer;
  private final int coalesceBacklog;
  private final int coalesceMax;
  private final SlackInbound inbound;
  private final JoinedPosts joined = new JoinedPosts();

  public SlackConnector(RelayConfig.Platforms settings) {
    this.api = new SlackApi(settings.slackApiUrl());
    this.pacer = new Pacer(settings.slackPace().toMillis());
    this.coalesceBacklog = settings.slackCoalesceBacklog();
    this.coalesceMax = settings.slackCoalesceMax();
    this.inbound = new SlackInbound(new SlackProfiles(api, settings.slackProfileCache()));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean servesBridges() {
    return true;
  }

  /**
   * {@code slack_team_id} and {@code slack_channel_id} always; {@code slack_signing_secret} when the
   * bridge accepts inbound, {@code slack_bot_token} when it sends outbound. A bot token is checked with
   * {@code auth.test}: Slack must know it, for the team named; its bot's ids are kept to recognise our
   * own posts when Slack sends them back.
   */
  @Override
  public Future<BridgeSetup> setUpBridge(JsonObject request, boolean sendsOutbound, boolean acceptsInbound, HttpSender sender) {
    String team;
    String channel;
    String signingSecret;
    String token;
    try {
      team = slackId(request, TEAM);
      channel = slackId(request, CHANNEL);
      signingSecret = JsonBody.optionalString(request, SIGNING_SECRET, 256);
      if (acceptsInbound && (signingSecret == null || signingSecret.isBlank())) {
        throw ProblemException.badRequest("field '" + SIGNING_SECRET + "' is required when the bridge accepts inbound"
            + " (the Slack app's Basic Information > App Credentials > Signing Secret)");
      }
      token = JsonBody.optionalString(request, BOT_TOKEN, 512);
      if (sendsOutbound && (token == null || token.isBlank())) {
        throw ProblemException.badRequest("field '" + BOT_TOKEN + "' is required when the bridge sends outbound"
            + " (the Slack app's OAuth & Permissions > Bot User OAuth Token, xoxb-…)");
      }
      if (token != null && !token.startsWith("xoxb-")) {
        throw ProblemException.badRequest("field '" + BOT_TOKEN + "' must be a bot token (xoxb-…), the Bot User OAuth Token of the app");
      }
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
    JsonObject config = new JsonObject().put(TEAM, team).put(CHANNEL, channel);
    JsonObject credentials = new JsonObject();
    if (signingSecret != null && !signingSecret.isBlank()) {
      credentials.put(SIGNING_SECRET, signingSecret);
    }
    if (token == null) {
      return Future.succeededFuture(new BridgeSetup(config, credentials));
    }
    credentials.put(BOT_TOKEN, token);
    return api.authTest(sender, token).map(auth -> {
      String tokenTeam = string(auth, "team_id");
      if (!team.equals(tokenTeam)) {
        throw ProblemException.badRequest("field '" + TEAM + "' is " + team + " but the bot token belongs to team " + tokenTeam
            + (string(auth, "team") == null ? "" : " (" + string(auth, "team") + ")"));
      }
      config.put(TEAM_NAME, string(auth, "team")).put(BOT_ID, string(auth, "bot_id")).put(BOT_USER, string(auth, "user_id"));
      return new BridgeSetup(config, credentials);
    });
  }

  private static String slackId(JsonObject request, String field) {
    String id = JsonBody.requiredString(request, field, 64);
    if (!id.matches("[A-Z0-9]{2,64}")) {
      throw ProblemException.badRequest("field '" + field + "' must be a Slack id (capital letters and digits, e.g. "
          + (field.equals(TEAM) ? "T0123ABCD" : "C0123ABCD") + "), got '" + id + "'");
    }
    return id;
  }

  /** The {@code chat.postMessage} of one delivery. */
  @Override
  public TransportRequest render(Delivery delivery) {
    return post(delivery, SlackText.escape(text(object(delivery.payload(), "content"))));
  }

  @Override
  public TransportResult classify(HttpAnswer answer) {
    return SlackApi.result(answer, SlackApi.Reading.POST);
  }

  /**
   * Posts the batch (one delivery, or a run {@link #coalesce} joined) as one message, or edits or
   * deletes the message an edit or delete names, after the channel's pace allows; the wait is part of
   * the latency. An edit or delete of one message of a joined post rewrites only its line. An edit or
   * delete of a message Slack does not have (the bridge never carried it) sends nothing and is
   * delivered, saying so.
   */
  @Override
  public Future<TransportResult> send(List<Delivery> batch, HttpSender sender) {
    String msgtype = string(object(batch.get(0).payload(), "content"), "msgtype");
    if (EDIT.equals(msgtype) || DELETE.equals(msgtype)) {
      return change(batch.get(0), EDIT.equals(msgtype), sender);
    }
    Delivery head = batch.get(0);
    String channel = head.config().getString(CHANNEL);
    List<JoinedPosts.Line> lines = batch.stream()
        .map(d -> new JoinedPosts.Line(d.eventId(), SlackText.escape(text(object(d.payload(), "content"))))).toList();
    return paced(sender, channel, post(head, JoinedPosts.text(lines)), SlackApi.Reading.POST).map(result -> {
      if (lines.size() > 1 && result.outcome() == Outcome.DELIVERED && result.foreignId() != null) {
        joined.remember(channel, result.foreignId(), lines);
      }
      return result;
    });
  }

  /** {@code chat.update} for an edit, {@code chat.delete} for a delete; of one line only, in a joined post this node made. */
  private Future<TransportResult> change(Delivery delivery, boolean edit, HttpSender sender) {
    JsonObject content = object(delivery.payload(), "content");
    String target = string(content, "target_event_id");
    String ts = string(object(delivery.payload(), "foreign"), "target_event_id");
    if (ts == null) {
      return Future.succeededFuture(new TransportResult(Outcome.DELIVERED, null, null, "the " + (edit ? "edited" : "deleted")
          + " event " + target + " is not on Slack; nothing was sent", 0));
    }
    String channel = delivery.config().getString(CHANNEL);
    JsonObject body = new JsonObject().put("channel", channel).put("ts", ts);
    List<JoinedPosts.Line> after = joined.lines(channel, ts)
        .filter(all -> all.stream().anyMatch(line -> line.eventId().equals(target)))
        .map(all -> JoinedPosts.changed(all, target, edit ? SlackText.escape(text(content)) : null))
        .orElse(null);
    if (edit || (after != null && !after.isEmpty())) {
      body.put("text", after != null ? JoinedPosts.text(after) : SlackText.escape(text(content)));
      return paced(sender, channel, api.post(delivery.id(), token(delivery), "chat.update", body), SlackApi.Reading.UPDATE)
          .map(result -> {
            if (after != null && result.outcome() == Outcome.DELIVERED) {
              joined.remember(channel, ts, after);
            }
            return result;
          });
    }
    return paced(sender, channel, api.post(delivery.id(), token(delivery), "chat.delete", body), SlackApi.Reading.DELETE)
        .map(result -> {
          if (result.outcome() == Outcome.DELIVERED) {
            joined.forget(channel, ts);
          }
          return result;
        });
  }

  /**
   * Sends {@code request} in the channel's next slot (the pace counted from the previous answer), and
   * holds the channel as long as Slack says when it is rate limited.
   */
  private Future<TransportResult> paced(HttpSender sender, String channel, TransportRequest request, SlackApi.Reading reading) {
    return pacer.run(sender.vertx(), channel, waited -> api.deliver(sender, request, reading).map(result -> {
      if (result.outcome() == Outcome.RATE_LIMITED && result.retryAfterMs() != null) {
        pacer.holdFor(channel, result.retryAfterMs());
      }
      return result.plusLatency(waited);
    }));
  }

  @Override
  public boolean coalesces() {
    return true;
  }

  /**
   * Once {@code slack.coalesce_backlog} deliveries are ready: the head and the plain text messages of the
   * same sender right behind it (no thread, no edit or delete), at most {@code slack.coalesce_max} and
   * {@value #JOINED_MAX_CHARS} characters, joined line by line into one post.
   */
  @Override
  public int coalesce(List<Delivery> ready) {
    if (ready.size() < coalesceBacklog || !plain(ready.get(0))) {
      return 1;
    }
    String sender = ready.get(0).senderFqid();
    int chars = text(object(ready.get(0).payload(), "content")).length();
    int n = 1;
    while (n < ready.size() && n < coalesceMax) {
      Delivery next = ready.get(n);
      chars += 1 + text(object(next.payload(), "content")).length();
      if (!plain(next) || !Objects.equals(sender, next.senderFqid()) || chars > JOINED_MAX_CHARS) {
        break;
      }
      n++;
    }
    return n;
  }

  @Override
  public Optional<InboundAdapter> inbound() {
    return Optional.of(inbound);
  }

  /** The {@code chat.postMessage} of {@code text} under the head's sender, in its thread when Slack has the root. */
  private TransportRequest post(Delivery head, String text) {
    JsonObject payload = head.payload();
    JsonObject sender = object(payload, "sender");
    JsonObject body = new JsonObject()
        .put("channel", head.config().getString(CHANNEL))
        .put("text", text)
        .put("username", username(sender));
    String avatar = string(sender, "avatar_url");
    if (avatar != null && !avatar.isBlank()) {
      body.put("icon_url", avatar);
    }
    String threadTs = string(object(payload, "foreign"), "thread_id");
    if (threadTs != null) {
      body.put("thread_ts", threadTs);
    }
    return api.post(head.id(), token(head), "chat.postMessage", body);
  }

  /** A plain message: may be joined with its neighbours. */
  private static boolean plain(Delivery d) {
    return TEXT.equals(string(object(d.payload(), "content"), "msgtype")) && d.payload().getValue("thread_id") == null;
  }

  /** The text a message shows: its body, or its kind for a message without one. */
  private static String text(JsonObject content) {
    String body = string(content, "body");
    if (body != null) {
      return body;
    }
    String msgtype = string(content, "msgtype");
    return "[" + (msgtype == null ? "message" : msgtype) + "]";
  }

  /** The sender's display name; without one, the id it is known by on its own side. */
  private static String username(JsonObject sender) {
    String name = string(sender, "display_name");
    if (name == null || name.isBlank()) {
      String fqid = string(sender, "fqid");
      name = fqid == null ? "ScaiRelay" : Fqids.ownName(fqid);
    }
    return name.length() > USERNAME_MAX ? name.substring(0, USERNAME_MAX) : name;
  }

  private static String token(Delivery delivery) {
    return string(delivery.credentials(), BOT_TOKEN);
  }

  private static JsonObject object(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof JsonObject o ? o : new JsonObject();
  }
}
