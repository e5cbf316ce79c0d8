package com.scairelay.transport.slack;

import com.scairelay.http.ProblemException;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * The few Slack Web API methods the transport calls ({@code auth.test}, {@code users.info},
 * {@code chat.postMessage}, {@code chat.update}, {@code chat.delete}), all through the node's
 * {@link HttpSender}, and how to read Slack's answers: Slack says most errors with HTTP 200 and
 * {@code {"ok":false,"error":"<code>"}}, rate limits with HTTP 429 and {@code Retry-After}.
 */
final class SlackApi {
  /** Slack refuses the bridge's own settings: nothing will work until an admin changes them. */
  static final Set<String> BROKEN = Set.of("channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "is_archived",
      "token_revoked", "token_expired", "missing_scope", "not_authed", "restricted_action", "restricted_action_read_only_channel");
  /** Slack refuses this one message; the bridge still works, and sending it again would not help. */
  static final Set<String> REFUSED_MESSAGE = Set.of("msg_too_long", "no_text", "invalid_blocks", "invalid_arguments",
      "invalid_arg_name", "invalid_charset", "too_many_attachments", "cant_update_message", "cant_delete_message",
      "edit_window_closed", "message_not_found", "restricted_action_thread_locked", "restricted_action_thread_only_channel",
      "restricted_action_non_threadable_channel");
  static final Set<String> RATE_LIMITED = Set.of("ratelimited", "rate_limited");
  /** Slack's own trouble: asking again later may work. */
  static final Set<String> SLACK_TROUBLE = Set.of("internal_error", "fatal_error", "service_unavailable", "request_timeout");

  private final String baseUrl;

  SlackApi(String baseUrl) {
    this.baseUrl = baseUrl;
  }

  String url(String method) {
    return baseUrl + "/" + method;
  }

  /** A Web API call with a JSON body, as Slack asks for write methods. */
  TransportRequest post(long deliveryId, String token, String method, JsonObject body) {
    return new TransportRequest(deliveryId, HttpMethod.POST, url(method), headers(token)
        .put("Content-Type", "application/json; charset=utf-8"), body == null ? null : body.encode());
  }

  /** A read method, its arguments in the query string. */
  TransportRequest get(String token, String method, Map<String, String> query) {
    StringBuilder url = new StringBuilder(url(method));
    char separator = '?';
    for (Map.Entry<String, String> arg : query.entrySet()) {
      url.append(separator).append(arg.getKey()).append('=').append(URLEncoder.encode(arg.getValue(), StandardCharsets.UTF_8));
      separator = '&';
    }
    return TransportRequest.get(url.toString(), headers(token));
  }

  private static JsonObject headers(String token) {
    return new JsonObject().put("Authorization", "Bearer " + token);
  }

  /**
   * {@code auth.test} for a new bridge's bot token: Slack's answer ({@code team_id}, {@code user_id},
   * {@code bot_id}), or a problem: 400 naming {@code slack_bot_token} when Slack refuses the token,
   * 502/503 with the reason when Slack cannot be asked.
   */
  Future<JsonObject> authTest(HttpSender sender, String token) {
    String where = url("auth.test");
    return sender.exchange(new TransportRequest(0, HttpMethod.POST, where, headers(token), null))
        .recover(err -> Future.failedFuture(new ProblemException(502, "Bad Gateway",
            "could not reach Slack at " + where + " to check field 'slack_bot_token': " + HttpSender.describe(err))))
        .map(answer -> {
          if (answer.status() == 429) {
            Long retryMs = HttpAnswer.retryAfterMs(answer.headers().get("Retry-After"), answer.clock());
            String seconds = Long.toString(retryMs == null ? 30 : Math.max(1, (retryMs + 999) / 1000));
            throw new ProblemException(503, "Service Unavailable",
                "Slack rate-limited auth.test while checking field 'slack_bot_token'; try again in " + seconds + " s",
                Map.of("Retry-After", seconds));
          }
          JsonObject body = json(answer);
          if (answer.status() != 200 || body == null) {
            throw new ProblemException(502, "Bad Gateway",
                "Slack answered auth.test at " + where + " with HTTP " + answer.status() + (body == null ? " and no JSON" : "")
                    + "; field 'slack_bot_token' could not be checked");
          }
          if (!Boolean.TRUE.equals(body.getValue("ok"))) {
            String error = string(body, "error");
            if (error != null && (RATE_LIMITED.contains(error) || SLACK_TROUBLE.contains(error))) {
              throw new ProblemException(503, "Service Unavailable",
                  "Slack could not answer auth.test (" + error + "); field 'slack_bot_token' could not be checked, try again",
                  Map.of("Retry-After", "30"));
            }
            throw ProblemException.badRequest("field 'slack_bot_token' is refused by Slack: auth.test answered '"
                + (error == null ? "ok:false" : error) + "'");
          }
          return body;
        });
  }

  /** {@code users.info} of {@code user}: the {@code user} object, or a failure saying why not. */
  Future<JsonObject> usersInfo(HttpSender sender, String token, String user) {
    return sender.exchange(get(token, "users.info", Map.of("user", user))).map(answer -> {
      JsonObject body = json(answer);
      if (answer.status() != 200 || body == null || !Boolean.TRUE.equals(body.getValue("ok"))
          || !(body.getValue("user") instanceof JsonObject found)) {
        throw new IllegalStateException("users.info of " + user + " answered HTTP " + answer.status()
            + (body == null ? "" : " " + string(body, "error")));
      }
      return found;
    });
  }

  /** Sends a delivery's call and reads Slack's answer; never fails: a failure is a result. */
  Future<TransportResult> deliver(HttpSender sender, TransportRequest request, Reading reading) {
    return sender.send(request, answer -> result(answer, reading));
  }

  /** What the answer to a delivery's call is read for. */
  enum Reading {
    /** {@code chat.postMessage}: the {@code ts} Slack gave the new message is its foreign id. */
    POST,
    /** {@code chat.update}: the message keeps its {@code ts}. */
    UPDATE,
    /** {@code chat.delete}: a message that is gone already needs no deleting. */
    DELETE
  }

  /**
   * The delivery policy's reading of a Slack answer. HTTP 429, or {@code ok:false} with
   * {@code ratelimited}: rate limited, honouring {@code Retry-After}. {@code ok:false} with a code of
   * {@link #BROKEN}: permanent, the bridge is broken (admin alert, queue parked). A code of
   * {@link #REFUSED_MESSAGE}: permanent for this message only. Any other code, a 5xx, or a 200 that
   * is not Slack's JSON: transient. Any other 4xx: permanent.
   */
  static TransportResult result(HttpAnswer answer, Reading reading) {
    int status = answer.status();
    long latency = answer.latencyMs();
    if (status < 200 || status >= 300) {
      return answer.classify(null);
    }
    JsonObject body = json(answer);
    if (body == null) {
      return new TransportResult(Outcome.TRANSIENT, status, null, "Slack answered HTTP " + status + " without its JSON", latency);
    }
    if (Boolean.TRUE.equals(body.getValue("ok"))) {
      return new TransportResult(Outcome.DELIVERED, status, null, null, latency, reading == Reading.POST ? string(body, "ts") : null);
    }
    String error = string(body, "error");
    String described = "Slack: " + (error == null ? "ok:false without an error" : error);
    if (error == null) {
      return new TransportResult(Outcome.TRANSIENT, status, null, described, latency);
    }
    if (RATE_LIMITED.contains(error)) {
      return new TransportResult(Outcome.RATE_LIMITED, status, HttpAnswer.retryAfterMs(answer.headers().get("Retry-After"), answer.clock()),
          described, latency);
    }
    if (BROKEN.contains(error)) {
      return TransportResult.broken(status, described, latency);
    }
    if (reading == Reading.DELETE && error.equals("message_not_found")) {
      return new TransportResult(Outcome.DELIVERED, status, null, "the message was gone from Slack already", latency);
    }
    if (REFUSED_MESSAGE.contains(error)) {
      return new TransportResult(Outcome.PERMANENT, status, null, described, latency);
    }
    return new TransportResult(Outcome.TRANSIENT, status, null, described, latency);
  }

  /** The answer's JSON object, or null when it is none. */
  static JsonObject json(HttpAnswer answer) {
    if (answer.body() == null || answer.body().length() == 0) {
      return null;
    }
    try {
      return answer.body().toJsonObject();
    } catch (RuntimeException notJson) {
      return null;
    }
  }

  /** The string at {@code key}, or null when there is none or it is not a string. */
  static String string(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof String s ? s : null;
  }
}
