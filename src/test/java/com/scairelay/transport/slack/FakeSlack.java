package com.scairelay.transport.slack;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A Slack Web API on loopback that answers as Slack documents: {@code auth.test}, {@code users.info},
 * {@code chat.postMessage}, {@code chat.update}, {@code chat.delete} under {@code /api/}. Errors are
 * HTTP 200 with {@code {"ok":false,"error":"<code>"}} (an unknown or revoked token is
 * {@code invalid_auth}, no token {@code not_authed}, an unknown channel {@code channel_not_found});
 * a test may script the next answers of a method (a 429 with {@code Retry-After}, a closed connection)
 * or hold {@code users.info} until it lets it go.
 */
final class FakeSlack implements AutoCloseable {
  /** A bot token's installation: the workspace, and the bot user and bot of the app. */
  record Install(String teamId, String teamName, String botUserId, String botId) {
  }

  /** One request: the Web API method, its headers, its body (JSON for chat.*, none for auth.test), its query, when it came. */
  record Call(String method, MultiMap headers, String body, MultiMap query, long atNanos) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** A scripted answer: HTTP status, headers, body; {@code hangUp}: close the connection instead. */
  record Answer(int status, Map<String, String> headers, String body, boolean hangUp) {
    static Answer error(String code) {
      return new Answer(200, Map.of(), new JsonObject().put("ok", false).put("error", code).encode(), false);
    }

    static Answer tooManyRequests(int retryAfterSeconds) {
      return new Answer(429, Map.of("Retry-After", Integer.toString(retryAfterSeconds)), "", false);
    }

    static Answer ratelimited(int retryAfterSeconds) {
      return new Answer(200, Map.of("Retry-After", Integer.toString(retryAfterSeconds)),
          new JsonObject().put("ok", false).put("error", "ratelimited").encode(), false);
    }

    static Answer status(int status) {
      return new Answer(status, Map.of(), "<html>" + status + "</html>", false);
    }

    static Answer closeConnection() {
      return new Answer(0, Map.of(), null, true);
    }
  }

  private final HttpServer server;
  private final Map<String, Install> tokens = new ConcurrentHashMap<>();
  private final Set<String> channels = ConcurrentHashMap.newKeySet();
  private final Map<String, JsonObject> users = new ConcurrentHashMap<>();
  /** Messages by channel + ts, as Slack holds them. */
  private final Map<String, JsonObject> messages = new ConcurrentHashMap<>();
  private final Map<String, Deque<Answer>> scripted = new ConcurrentHashMap<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicLong clock = new AtomicLong(1_700_000_000_000_100L);
  private volatile Promise<Void> usersInfoGate;
  private volatile Function<Call, Future<Void>> onUsersInfo = call -> Future.succeededFuture();

  private FakeSlack(Vertx vertx) {
    this.server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  static FakeSlack start(Vertx vertx) {
    return new FakeSlack(vertx);
  }

  /** What {@code slack.api_url} is set to. */
  String apiUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/api";
  }

  void install(String token, Install install) {
    tokens.put(token, install);
  }

  void revoke(String token) {
    tokens.remove(token);
  }

  void channel(String channelId) {
    channels.add(channelId);
  }

  void user(String userId, String displayName, String realName, String avatar) {
    users.put(userId, new JsonObject().put("id", userId).put("name", realName.toLowerCase().replace(' ', '.')).put("real_name", realName)
        .put("is_bot", false)
        .put("profile", new JsonObject().put("display_name", displayName).put("real_name", realName).put("image_72", avatar)
            .put("image_192", avatar)));
  }

  /** The next answers of {@code method}, in order, before it answers as Slack would again. */
  void script(String method, Answer... answers) {
    Deque<Answer> queue = scripted.computeIfAbsent(method, m -> new ArrayDeque<>());
    synchronized (queue) {
      queue.addAll(List.of(answers));
    }
  }

  /** {@code users.info} answers only once {@link #releaseUsersInfo} is called. */
  void holdUsersInfo() {
    usersInfoGate = Promise.promise();
  }

  void releaseUsersInfo() {
    Promise<Void> gate = usersInfoGate;
    usersInfoGate = null;
    if (gate != null) {
      gate.tryComplete();
    }
  }

  /** Runs as {@code users.info} arrives, before it is answered. */
  void onUsersInfo(Function<Call, Future<Void>> check) {
    onUsersInfo = check;
  }

  List<Call> calls(String method) {
    return calls.stream().filter(c -> c.method().equals(method)).toList();
  }

  /** The chat.* calls about {@code channel}. */
  List<Call> chat(String method, String channel) {
    return calls(method).stream().filter(c -> channel.equals(c.json().getString("channel"))).toList();
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(raw -> {
      String path = request.path();
      String method = path.startsWith("/api/") ? path.substring(5) : path;
      Call call = new Call(method, MultiMap.caseInsensitiveMultiMap().addAll(request.headers()), raw.toString(),
          MultiMap.caseInsensitiveMultiMap().addAll(request.params()), System.nanoTime());
      calls.add(call);
      Answer next = nextScripted(method);
      if (next != null) {
        answer(request, next);
        return;
      }
      if (method.equals("users.info")) {
        Promise<Void> gate = usersInfoGate;
        onUsersInfo.apply(call)
            .compose(v -> gate == null ? Future.succeededFuture() : gate.future())
            .onComplete(v -> ok(request, answer(call)));
        return;
      }
      ok(request, answer(call));
    });
  }

  private Answer nextScripted(String method) {
    Deque<Answer> queue = scripted.get(method);
    if (queue == null) {
      return null;
    }
    synchronized (queue) {
      return queue.poll();
    }
  }

  /** Slack's answer to a call: an {@code ok:true} result, or the error Slack gives. */
  private JsonObject answer(Call call) {
    String authorization = call.headers().get("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return error("not_authed");
    }
    Install install = tokens.get(authorization.substring("Bearer ".length()));
    if (install == null) {
      return error("invalid_auth");
    }
    switch (call.method()) {
      case "auth.test":
        return new JsonObject().put("ok", true).put("url", "https://" + install.teamName().toLowerCase() + ".slack.com/")
            .put("team", install.teamName()).put("user", "relay").put("team_id", install.teamId())
            .put("user_id", install.botUserId()).put("bot_id", install.botId()).put("is_enterprise_install", false);
      case "users.info": {
        JsonObject user = users.get(String.valueOf(call.query().get("user")));
        return user == null ? error("user_not_found") : new JsonObject().put("ok", true).put("user", user);
      }
      case "chat.postMessage":
      case "chat.update":
      case "chat.delete":
        return chat(call, install);
      default:
        return error("unknown_method");
    }
  }

  private JsonObject chat(Call call, Install install) {
    if (!String.valueOf(call.headers().get("Content-Type")).startsWith("application/json")) {
      return error("invalid_arguments");
    }
    JsonObject args = call.json();
    String channel = args.getString("channel");
    if (channel == null || !channels.contains(channel)) {
      return error("channel_not_found");
    }
    if (call.method().equals("chat.postMessage")) {
      if (args.getString("text") == null || args.getString("text").isEmpty()) {
        return error("no_text");
      }
      long tick = clock.incrementAndGet();
      String ts = (tick / 1_000_000) + "." + String.format("%06d", tick % 1_000_000);
      JsonObject message = new JsonObject().put("type", "message").put("subtype", "bot_message").put("text", args.getString("text"))
          .put("ts", ts).put("username", args.getString("username")).put("bot_id", install.botId());
      if (args.getString("thread_ts") != null) {
        message.put("thread_ts", args.getString("thread_ts"));
      }
      messages.put(channel + "/" + ts, message);
      return new JsonObject().put("ok", true).put("channel", channel).put("ts", ts).put("message", message);
    }
    String ts = args.getString("ts");
    JsonObject message = ts == null ? null : messages.get(channel + "/" + ts);
    if (message == null) {
      return error("message_not_found");
    }
    if (call.method().equals("chat.update")) {
      message.put("text", args.getString("text"));
      return new JsonObject().put("ok", true).put("channel", channel).put("ts", ts).put("text", args.getString("text"));
    }
    messages.remove(channel + "/" + ts);
    return new JsonObject().put("ok", true).put("channel", channel).put("ts", ts);
  }

  private static JsonObject error(String code) {
    return new JsonObject().put("ok", false).put("error", code);
  }

  private static void ok(HttpServerRequest request, JsonObject body) {
    request.response().putHeader("Content-Type", "application/json; charset=utf-8").setStatusCode(200).end(body.encode());
  }

  private static void answer(HttpServerRequest request, Answer answer) {
    if (answer.hangUp()) {
      request.connection().close();
      return;
    }
    answer.headers().forEach(request.response()::putHeader);
    request.response().putHeader("Content-Type", answer.status() == 200 ? "application/json; charset=utf-8" : "text/html")
        .setStatusCode(answer.status()).end(answer.body());
  }

  @Override
  public void close() {
    server.close().await();
  }
}
