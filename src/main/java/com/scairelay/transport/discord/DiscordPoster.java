package com.scairelay.transport.discord;

import com.scairelay.store.Fqids;
import com.scairelay.transport.Delivery;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The outbound side: room events posted through the bridge's channel webhook
 * (https://discord.com/developers/docs/resources/webhook). A text is one Execute Webhook per 2,000
 * characters, in order, as the sender (username and avatar), mentioning nobody; an edit or a delete of a
 * message the bridge posted edits or deletes it. Every request waits for its rate-limit bucket, and every
 * answer is read by {@link DiscordRateLimits}.
 */
final class DiscordPoster {
  static final String CONFIG_WEBHOOK_ID = "discord_webhook_id";
  static final String CREDENTIAL_WEBHOOK_TOKEN = "discord_webhook_token";
  /** A bucket held longer than this is not waited for in a send: the delivery is retried when it resets. */
  static final long MAX_INLINE_WAIT_MS = 10_000;
  /** Discord's JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
  private static final int UNKNOWN_MESSAGE = 10008;
  private static final int UNKNOWN_WEBHOOK = 10015;

  /** The endpoints called, each a route of its own for the rate limits. */
  private enum Call {
    EXECUTE("POST /webhooks/{id}/{token}"),
    EDIT("PATCH /webhooks/{id}/{token}/messages/{message.id}"),
    DELETE("DELETE /webhooks/{id}/{token}/messages/{message.id}");

    final String route;

    Call(String route) {
      this.route = route;
    }
  }

  private final String apiUrl;
  private final DiscordRateLimits limits;
  private final SplitMessages splits;

  DiscordPoster(String apiUrl, DiscordRateLimits limits, SplitMessages splits) {
    this.apiUrl = apiUrl;
    this.limits = limits;
    this.splits = splits;
  }

  /** Posts, edits or deletes as the event asks; never fails, a failure is a result. */
  Future<TransportResult> send(Delivery delivery, HttpSender sender) {
    DiscordWebhook hook = webhook(delivery);
    if (hook == null) {
      return Future.succeededFuture(TransportResult.broken(null, "the bridge has no Discord webhook (field '"
          + DiscordWebhook.FIELD + "')", 0));
    }
    JsonObject content = content(delivery);
    String msgtype = content.getString("msgtype", "");
    String target = foreign(delivery).getString("target_event_id");
    if (msgtype.equals("swp.edit")) {
      return target == null ? nothingSent("the edited message is not one this bridge posted to Discord") : edit(hook, target, content, sender);
    }
    if (msgtype.equals("swp.delete")) {
      return target == null ? nothingSent("the deleted message is not one this bridge posted to Discord") : delete(hook, target, sender);
    }
    return post(delivery, hook, text(content), sender);
  }

  /** The first Execute Webhook of {@code delivery} (what a plain one-request send would make). */
  TransportRequest render(Delivery delivery) {
    DiscordWebhook hook = webhook(delivery);
    List<String> parts = DiscordText.split(text(content(delivery)), DiscordText.MAX_CONTENT);
    return execute(delivery, hook == null ? new DiscordWebhook("0", "none") : hook, parts.isEmpty() ? "" : parts.get(0));
  }

  /** An answer to an Execute Webhook, read without a route (a plain send). */
  TransportResult classify(HttpAnswer answer) {
    return classify(answer, Call.EXECUTE);
  }

  private Future<TransportResult> post(Delivery delivery, DiscordWebhook hook, String text, HttpSender sender) {
    List<String> parts = DiscordText.split(text, DiscordText.MAX_CONTENT);
    if (parts.isEmpty()) {
      return nothingSent("the message has no text Discord can show");
    }
    List<String> posted = new ArrayList<>(splits.posted(delivery.id()));
    return postFrom(delivery, hook, parts, posted, 0, sender);
  }

  /** Posts {@code parts} from the first not yet {@code posted}; a part that fails ends the attempt with its result. */
  private Future<TransportResult> postFrom(Delivery delivery, DiscordWebhook hook, List<String> parts, List<String> posted,
                                           long latencyMs, HttpSender sender) {
    if (posted.size() >= parts.size()) {
      splits.delivered(delivery.id(), posted);
      String first = posted.get(0).isEmpty() ? null : posted.get(0);
      return Future.succeededFuture(new TransportResult(Outcome.DELIVERED, 200, null, null, latencyMs, first));
    }
    return call(hook, Call.EXECUTE, execute(delivery, hook, parts.get(posted.size())), sender).compose(result -> {
      if (result.outcome() != Outcome.DELIVERED) {
        return Future.succeededFuture(result.plusLatency(latencyMs));
      }
      String id = result.foreignId() == null ? "" : result.foreignId();
      posted.add(id);
      if (parts.size() > 1) {
        splits.partPosted(delivery.id(), id);
      }
      return postFrom(delivery, hook, parts, posted, latencyMs + result.latencyMs(), sender);
    });
  }

  private Future<TransportResult> edit(DiscordWebhook hook, String messageId, JsonObject content, HttpSender sender) {
    String text = text(content);
    if (text.isBlank()) {
      return nothingSent("an edit to no text is not sent (Discord refuses an empty message)");
    }
    String body = new JsonObject()
        .put("content", DiscordText.truncate(text, DiscordText.MAX_CONTENT))
        .put("allowed_mentions", noMentions())
        .encode();
    return call(hook, Call.EDIT, new TransportRequest(0, HttpMethod.PATCH, hook.messageUrl(apiUrl, messageId), new JsonObject(), body), sender);
  }

  /** Deletes the message and, when this node split it, its later parts. */
  private Future<TransportResult> delete(DiscordWebhook hook, String messageId, HttpSender sender) {
    List<String> ids = new ArrayList<>();
    ids.add(messageId);
    ids.addAll(splits.laterParts(messageId));
    return deleteFrom(hook, ids, 0, 0, sender).onSuccess(result -> {
      if (result.outcome() == Outcome.DELIVERED) {
        splits.forget(messageId);
      }
    });
  }

  private Future<TransportResult> deleteFrom(DiscordWebhook hook, List<String> ids, int next, long latencyMs, HttpSender sender) {
    TransportRequest request = new TransportRequest(0, HttpMethod.DELETE, hook.messageUrl(apiUrl, ids.get(next)), new JsonObject(), null);
    return call(hook, Call.DELETE, request, sender).compose(result -> {
      if (result.outcome() != Outcome.DELIVERED || next + 1 == ids.size()) {
        return Future.succeededFuture(result.plusLatency(latencyMs));
      }
      return deleteFrom(hook, ids, next + 1, latencyMs + result.latencyMs(), sender);
    });
  }

  /**
   * One request, once its bucket (and the node's global hold) lets it go; a bucket held for longer than
   * {@link #MAX_INLINE_WAIT_MS} is not waited for here, the delivery is retried when it resets.
   */
  private Future<TransportResult> call(DiscordWebhook hook, Call call, TransportRequest request, HttpSender sender) {
    String route = hook.id() + " " + call.route;
    long holdMs = limits.waitMs(hook.id(), route);
    if (holdMs > MAX_INLINE_WAIT_MS) {
      return Future.succeededFuture(new TransportResult(Outcome.RATE_LIMITED, null, holdMs,
          "not sent: Discord's rate limit holds " + hook + " for " + holdMs + " ms more", 0));
    }
    return limits.acquire(sender.vertx(), hook.id(), route)
        .compose(waitedMs -> sender.send(request, answer -> {
          limits.read(answer, hook.id(), route);
          return classify(answer, call);
        }).map(result -> result.plusLatency(waitedMs)));
  }

  /**
   * Discord's answer: 2xx delivered (an Execute Webhook's message {@code id} the foreign id); 429 rate limited
   * for as long as it says; 401 (Invalid Webhook Token) or 404 Unknown Webhook: the bridge's webhook is gone,
   * {@link TransportResult#broken}; 404 Unknown Message: deleted already (a delete is done), not ours to edit;
   * 5xx transient; any other 4xx permanent.
   */
  private TransportResult classify(HttpAnswer answer, Call call) {
    int status = answer.status();
    long latency = answer.latencyMs();
    if (status >= 200 && status < 300) {
      return new TransportResult(Outcome.DELIVERED, status, null, null, latency, call == Call.EXECUTE ? messageId(answer) : null);
    }
    JsonObject body = DiscordRateLimits.json(answer);
    String error = error(answer, body);
    if (status == 429) {
      DiscordRateLimits.Limited limited = DiscordRateLimits.limited(answer);
      return new TransportResult(Outcome.RATE_LIMITED, status, limited.waitMs(),
          (limited.global() ? "global rate limit: " : "rate limited: ") + error, latency);
    }
    Integer code = body != null && body.getValue("code") instanceof Number n ? n.intValue() : null;
    if (status == 404 && code != null && code == UNKNOWN_MESSAGE) {
      return call == Call.DELETE
          ? new TransportResult(Outcome.DELIVERED, status, null, "already deleted on Discord: " + error, latency)
          : new TransportResult(Outcome.PERMANENT, status, null, "the message is gone or not the webhook's own: " + error, latency);
    }
    boolean webhookGone = status == 401 || (status == 404 && (code == null ? call == Call.EXECUTE : code == UNKNOWN_WEBHOOK));
    if (webhookGone) {
      return TransportResult.broken(status, "Discord refuses the bridge's webhook (" + error + "): it was deleted or its "
          + "token was reset; make a new webhook and a new bridge with its URL", latency);
    }
    Outcome outcome = status >= 500 ? Outcome.TRANSIENT : Outcome.PERMANENT;
    return new TransportResult(outcome, status, null, error, latency);
  }

  /** Discord's error as it words it: {@code "Unknown Webhook (code 10015)"}, or the start of the body. */
  private static String error(HttpAnswer answer, JsonObject body) {
    if (body != null && body.getValue("message") instanceof String message) {
      return body.getValue("code") instanceof Number code ? message + " (code " + code + ")" : message;
    }
    if (answer.body() == null || answer.body().length() == 0) {
      return null;
    }
    String text = answer.body().toString();
    return text.length() > 200 ? text.substring(0, 200) + "…" : text;
  }

  private static String messageId(HttpAnswer answer) {
    JsonObject body = DiscordRateLimits.json(answer);
    return body == null || body.getValue("id") == null ? null : String.valueOf(body.getValue("id"));
  }

  private TransportRequest execute(Delivery delivery, DiscordWebhook hook, String part) {
    JsonObject sender = delivery.payload().getJsonObject("sender", new JsonObject());
    JsonObject body = new JsonObject()
        .put("content", part)
        .put("username", DiscordText.username(sender.getString("display_name"), Fqids.ownName(sender.getString("fqid"))))
        .put("allowed_mentions", noMentions());
    String avatar = sender.getString("avatar_url");
    if (avatar != null && avatar.length() <= 2048 && (avatar.startsWith("https://") || avatar.startsWith("http://"))) {
      body.put("avatar_url", avatar);
    }
    return new TransportRequest(delivery.id(), hook.url(apiUrl) + "?wait=true", new JsonObject(), body.encode());
  }

  private static JsonObject noMentions() {
    return new JsonObject().put("parse", new JsonArray());
  }

  private static DiscordWebhook webhook(Delivery delivery) {
    String id = delivery.config().getString(CONFIG_WEBHOOK_ID);
    String token = delivery.credentials().getString(CREDENTIAL_WEBHOOK_TOKEN);
    return id == null || token == null ? null : new DiscordWebhook(id, token);
  }

  private static JsonObject content(Delivery delivery) {
    return delivery.payload().getValue("content") instanceof JsonObject content ? content : new JsonObject();
  }

  private static JsonObject foreign(Delivery delivery) {
    return delivery.payload().getValue("foreign") instanceof JsonObject foreign ? foreign : new JsonObject();
  }

  private static String text(JsonObject content) {
    return content.getValue("body") instanceof String body ? body : "";
  }

  private static Future<TransportResult> nothingSent(String why) {
    return Future.succeededFuture(new TransportResult(Outcome.DELIVERED, null, null, "nothing sent: " + why, 0, null));
  }
}
