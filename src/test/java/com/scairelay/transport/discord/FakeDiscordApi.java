package com.scairelay.transport.discord;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Discord's REST API on loopback, answering as https://discord.com/developers/docs documents it, for the
 * calls ScaiRelay makes: Get Webhook with Token, Execute Webhook ({@code ?wait=true} answers the message),
 * Edit and Delete Webhook Message, {@code GET /users/@me} and {@code GET /channels/{id}} as a bot. Every
 * answer carries the rate-limit headers of its webhook's bucket ({@code X-RateLimit-Limit}, {@code -Remaining},
 * {@code -Reset-After}, {@code -Bucket}); a request to an empty bucket is answered 429 with Discord's JSON
 * body. Errors are Discord's: 404 {@code {"message":"Unknown Webhook","code":10015}}, 401 Invalid Webhook
 * Token (50027), 404 Unknown Message (10008), 403 Missing Access (50001). Tests may script the next answers
 * of a webhook's executes. Records every request.
 */
final class FakeDiscordApi implements AutoCloseable {
  static final String PREFIX = "/api/v10";
  private static final Pattern WEBHOOK = Pattern.compile(PREFIX + "/webhooks/(\\d+)/([^/]+)(?:/messages/(\\d+))?");
  private static final Pattern CHANNEL = Pattern.compile(PREFIX + "/channels/(\\d+)");

  /** One request as the fake saw it; {@code atNanos} on {@link System#nanoTime()}. */
  record Request(HttpMethod method, String path, String query, MultiMap headers, String body, long atNanos) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** A scripted answer; {@link #NEVER}: none at all (the caller times out). A script answering null lets the fake answer. */
  record Answer(int status, Map<String, String> headers, String body) {
    static final Answer NEVER = new Answer(-1, Map.of(), null);

    static Answer json(int status, JsonObject body) {
      return new Answer(status, Map.of(), body.encode());
    }
  }

  /** A channel webhook; the bucket of its executes allows {@code limit} requests per {@code resetMs}. */
  final class Hook {
    final String id;
    final String token;
    final String channelId;
    final String guildId;
    volatile int limit = 50;
    volatile long resetMs = 2_000;
    volatile boolean deleted;
    final Deque<Function<Request, Answer>> nextExecutes = new ArrayDeque<>();
    final Map<String, JsonObject> messages = new ConcurrentHashMap<>();
    private long windowStartNanos;
    private int used;

    Hook(String id, String token, String channelId, String guildId) {
      this.id = id;
      this.token = token;
      this.channelId = channelId;
      this.guildId = guildId;
    }

    /** The URL Discord's "Copy Webhook URL" gives. */
    String url() {
      return "https://discord.com/api/webhooks/" + id + "/" + token;
    }

    String executePath() {
      return PREFIX + "/webhooks/" + id + "/" + token;
    }

    /** Scripts the answer to the next execute that reaches the bucket. */
    synchronized void thenAnswer(Function<Request, Answer> answer) {
      nextExecutes.add(answer);
    }

    List<Request> executes() {
      return requests(HttpMethod.POST, executePath());
    }

    /** Takes one request from the bucket: null when it is empty; otherwise the headers to answer with. */
    synchronized Map<String, String> take(long now, Map<String, String> limited) {
      if (now - windowStartNanos >= resetMs * 1_000_000) {
        windowStartNanos = now;
        used = 0;
      }
      double resetAfter = Math.max(0, resetMs - (now - windowStartNanos) / 1_000_000) / 1000.0;
      if (used >= limit) {
        limited.put("retry_after", String.format(Locale.ROOT, "%.3f", resetAfter));
        return null;
      }
      used++;
      return Map.of("X-RateLimit-Limit", Integer.toString(limit), "X-RateLimit-Remaining", Integer.toString(limit - used),
          "X-RateLimit-Reset-After", String.format(Locale.ROOT, "%.3f", resetAfter), "X-RateLimit-Bucket", "bucket-" + id);
    }
  }

  /** The webhook's other routes (get, edit, delete) have buckets of their own, never emptied here. */
  private static final Map<String, String> OTHER_ROUTES = Map.of("X-RateLimit-Limit", "50", "X-RateLimit-Remaining", "49",
      "X-RateLimit-Reset-After", "1.000", "X-RateLimit-Bucket", "bucket-messages");

  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicLong snowflakes = new AtomicLong(1_200_000_000_000_000_000L);
  final List<Request> requests = new CopyOnWriteArrayList<>();
  final Map<String, Hook> hooks = new ConcurrentHashMap<>();
  /** Bot tokens → bot user ids. */
  final Map<String, String> bots = new ConcurrentHashMap<>();
  /** Channel ids → guild ids; {@code visible} holds "token channel" pairs the bot may see. */
  final Map<String, String> channels = new ConcurrentHashMap<>();
  final Set<String> visible = ConcurrentHashMap.newKeySet();

  FakeDiscordApi() {
    this.vertx = Vertx.vertx();
    this.server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  /** What {@code discord.api_url} is set to. */
  String apiUrl() {
    return "http://127.0.0.1:" + server.actualPort() + PREFIX;
  }

  String snowflake() {
    return Long.toString(snowflakes.incrementAndGet());
  }

  Hook addWebhook() {
    String channel = snowflake();
    String guild = snowflake();
    channels.put(channel, guild);
    Hook hook = new Hook(snowflake(), "tok-" + snowflake() + "_Ab-Cd", channel, guild);
    hooks.put(hook.id, hook);
    return hook;
  }

  /** A bot that sees {@code channelIds}; answers its token. */
  String addBot(String userId, String... channelIds) {
    String token = "MTIz" + userId + ".GhIjKl.bot-token-" + snowflake();
    bots.put(token, userId);
    for (String channel : channelIds) {
      channels.putIfAbsent(channel, snowflake());
      visible.add(token + " " + channel);
    }
    return token;
  }

  List<Request> requests(HttpMethod method, String path) {
    return requests.stream().filter(r -> r.method() == method && r.path().equals(path)).toList();
  }

  /** Requests whose path starts with {@code prefix} (a webhook's every route). */
  List<Request> requestsUnder(String prefix) {
    return requests.stream().filter(r -> r.path().startsWith(prefix)).toList();
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      Request seen = new Request(request.method(), request.path(), request.query(), request.headers(), body.toString(), System.nanoTime());
      requests.add(seen);
      Answer answer = answer(seen);
      if (answer.status() < 0) {
        return;
      }
      answer.headers().forEach(request.response()::putHeader);
      if (answer.body() != null) {
        request.response().putHeader("Content-Type", "application/json");
      }
      request.response().setStatusCode(answer.status()).end(answer.body() == null ? "" : answer.body());
    });
  }

  private Answer answer(Request r) {
    Matcher webhook = WEBHOOK.matcher(r.path());
    if (webhook.matches()) {
      return webhook(r, webhook.group(1), webhook.group(2), webhook.group(3));
    }
    if (r.method() == HttpMethod.GET && r.path().equals(PREFIX + "/users/@me")) {
      String userId = bots.get(botToken(r));
      return userId == null
          ? Answer.json(401, new JsonObject().put("message", "401: Unauthorized").put("code", 0))
          : Answer.json(200, new JsonObject().put("id", userId).put("username", "relay-bot").put("discriminator", "0")
              .put("bot", true).putNull("global_name").putNull("avatar"));
    }
    Matcher channel = CHANNEL.matcher(r.path());
    if (r.method() == HttpMethod.GET && channel.matches()) {
      String token = botToken(r);
      if (!bots.containsKey(token)) {
        return Answer.json(401, new JsonObject().put("message", "401: Unauthorized").put("code", 0));
      }
      String guild = channels.get(channel.group(1));
      if (guild == null) {
        return Answer.json(404, new JsonObject().put("message", "Unknown Channel").put("code", 10003));
      }
      if (!visible.contains(token + " " + channel.group(1))) {
        return Answer.json(403, new JsonObject().put("message", "Missing Access").put("code", 50001));
      }
      return Answer.json(200, new JsonObject().put("id", channel.group(1)).put("type", 0).put("guild_id", guild).put("name", "general"));
    }
    return Answer.json(404, new JsonObject().put("message", "404: Not Found").put("code", 0));
  }

  private Answer webhook(Request r, String id, String token, String messageId) {
    Hook hook = hooks.get(id);
    if (hook == null || hook.deleted) {
      return Answer.json(404, new JsonObject().put("message", "Unknown Webhook").put("code", 10015));
    }
    if (!hook.token.equals(token)) {
      return Answer.json(401, new JsonObject().put("message", "Invalid Webhook Token").put("code", 50027));
    }
    Map<String, String> limited = new java.util.HashMap<>();
    Map<String, String> headers = r.method() == HttpMethod.POST ? hook.take(r.atNanos(), limited) : OTHER_ROUTES;
    if (headers == null) {
      return new Answer(429, Map.of("X-RateLimit-Scope", "user", "Retry-After", Long.toString((long) Math.ceil(Double.parseDouble(limited.get("retry_after"))))),
          new JsonObject().put("message", "You are being rate limited.").put("retry_after", Double.parseDouble(limited.get("retry_after")))
              .put("global", false).encode());
    }
    if (r.method() == HttpMethod.GET && messageId == null) {
      return new Answer(200, headers, new JsonObject().put("type", 1).put("id", hook.id).put("name", "Spidey Bot")
          .putNull("avatar").put("channel_id", hook.channelId).put("guild_id", hook.guildId)
          .put("application_id", (String) null).put("token", hook.token).encode());
    }
    if (r.method() == HttpMethod.POST && messageId == null) {
      Function<Request, Answer> scripted;
      synchronized (hook) {
        scripted = hook.nextExecutes.poll();
      }
      Answer answer = scripted == null ? null : scripted.apply(r);
      if (answer == Answer.NEVER) {
        return answer;
      }
      if (answer != null) {
        Map<String, String> merged = new java.util.HashMap<>(headers);
        merged.putAll(answer.headers());
        return new Answer(answer.status(), merged, answer.body());
      }
      JsonObject sent = r.json();
      if (sent.getString("content", "").isEmpty()) {
        return new Answer(400, headers, new JsonObject().put("message", "Cannot send an empty message").put("code", 50006).encode());
      }
      JsonObject message = message(hook, snowflake(), sent);
      hook.messages.put(message.getString("id"), message);
      return new Answer(200, headers, message.encode());
    }
    JsonObject message = messageId == null ? null : hook.messages.get(messageId);
    if (message == null) {
      return new Answer(404, headers, new JsonObject().put("message", "Unknown Message").put("code", 10008).encode());
    }
    if (r.method() == HttpMethod.PATCH) {
      message.put("content", r.json().getString("content")).put("edited_timestamp", "2026-12-01T10:00:00.000000+00:00");
      return new Answer(200, headers, message.encode());
    }
    if (r.method() == HttpMethod.DELETE) {
      hook.messages.remove(messageId);
      return new Answer(204, headers, null);
    }
    return new Answer(405, headers, new JsonObject().put("message", "405: Method Not Allowed").put("code", 0).encode());
  }

  private JsonObject message(Hook hook, String id, JsonObject sent) {
    return new JsonObject().put("id", id).put("type", 0).put("channel_id", hook.channelId).put("content", sent.getString("content"))
        .put("webhook_id", hook.id).putNull("edited_timestamp").put("mentions", new JsonArray())
        .put("author", new JsonObject().put("id", hook.id).put("username", sent.getString("username", "Spidey Bot"))
            .put("bot", true).put("discriminator", "0000"));
  }

  private static String botToken(Request r) {
    String auth = r.headers().get("Authorization");
    return auth != null && auth.startsWith("Bot ") ? auth.substring(4) : "";
  }

  @Override
  public void close() {
    server.close().await();
    vertx.close().await();
  }
}
