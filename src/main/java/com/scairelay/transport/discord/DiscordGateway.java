package com.scairelay.transport.discord;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * One bot's connection to the Discord Gateway (v10, JSON, no compression), kept alive as Discord documents
 * (https://discord.com/developers/docs/events/gateway): Hello, heartbeats with the last sequence (the first one
 * after a random fraction of the interval), Identify on a fresh session, Resume on {@code resume_gateway_url}
 * after a drop, op 7 and op 9 handled, zombied connections (no Heartbeat ACK between two heartbeats) closed and
 * resumed, fatal close codes reported once and never retried, reconnects with exponential backoff and jitter.
 *
 * <p>Every event, timer and callback runs on the Vert.x context the gateway was created on; {@code onDispatch}
 * receives each dispatch but READY and RESUMED (bookkeeping of the session), in the order Discord sent them.
 * Nothing here throws on the event loop. We only ever send heartbeats, Identify and Resume: a few small frames
 * a minute, far under Discord's 4096 bytes a frame and 120 frames a minute.
 */
public final class DiscordGateway {
  public static final int GUILD_MESSAGES = 1 << 9;
  public static final int DIRECT_MESSAGES = 1 << 12;
  /** Privileged: enable it under Bot → Privileged Gateway Intents in the Developer Portal, or Discord closes with 4014. */
  public static final int MESSAGE_CONTENT = 1 << 15;
  public static final int MESSAGE_INTENTS = GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT;

  /**
   * The waits that are ours to choose: the reconnect backoff (from {@code backoffInitial}, doubling up to
   * {@code backoffMax}, each wait drawn between {@code backoffInitial} and the current ceiling), and the random
   * wait before a fresh Identify after an Invalid Session that cannot be resumed (Discord suggests 1–5 s).
   */
  public record Timing(Duration backoffInitial, Duration backoffMax, Duration reidentifyMin, Duration reidentifyMax) {
    public static final Timing DISCORD = new Timing(Duration.ofSeconds(1), Duration.ofSeconds(60),
        Duration.ofSeconds(1), Duration.ofSeconds(5));

    public Timing {
      if (backoffInitial.toMillis() < 1 || backoffMax.compareTo(backoffInitial) < 0
          || reidentifyMin.toMillis() < 1 || reidentifyMax.compareTo(reidentifyMin) < 0) {
        throw new IllegalArgumentException("waits are at least 1 ms and each maximum is at least its minimum");
      }
    }
  }

  /**
   * For admins and metrics: {@code connected} while a socket is open and its session is ready (READY or RESUMED
   * received); {@code sessionId} and {@code lastSequence} of the session to resume (null without one);
   * {@code reconnects}, the connection attempts made after the first one.
   */
  public record Status(boolean connected, String sessionId, Long lastSequence, long reconnects) {
  }

  private static final Logger log = LoggerFactory.getLogger(DiscordGateway.class);
  private static final String QUERY = "/?v=10&encoding=json";
  private static final short NORMAL_CLOSE = 1000;
  /** Any code but 1000 and 1001 keeps the session resumable; 4000–4999 is the range applications may use. */
  private static final short RESUMABLE_CLOSE = 4900;
  private static final long HELLO_TIMEOUT_MS = 30_000;
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  /** READY and GUILD_CREATE of large guilds exceed Vert.x's 64 KiB default frame. */
  private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
  private static final Map<Integer, String> FATAL = Map.of(
      4004, "authentication failed: the bot token is wrong or was reset",
      4010, "invalid shard sent when identifying",
      4011, "sharding required: the bot is in too many guilds for one connection",
      4012, "invalid Gateway API version",
      4013, "invalid intents: the intents value is not a valid bitfield",
      4014, "disallowed intents: the bot needs the Message Content intent enabled in the Developer Portal "
          + "(Bot → Privileged Gateway Intents)");
  private static final int INVALID_SEQ = 4007;
  private static final int SESSION_TIMED_OUT = 4009;

  private final Vertx vertx;
  private final Context context;
  private final String gatewayUrl;
  private final String token;
  private final int intents;
  private final Timing timing;
  private final Consumer<Dispatch> onDispatch;
  private final Consumer<String> onFatal;
  private final Promise<Void> firstConnection = Promise.promise();

  // Touched on the context only.
  private WebSocketClient client;
  private WebSocket socket;
  private boolean running;
  private boolean stopped;
  private boolean acked;
  private int failures;
  private String resumeUrl;
  private long heartbeatTimer = -1;
  private long helloTimer = -1;
  private long reconnectTimer = -1;

  // Written on the context, read by status() from anywhere.
  private volatile boolean ready;
  private volatile String sessionId;
  private volatile Long sequence;
  private volatile long reconnects;

  /**
   * @param gatewayUrl the Gateway base, e.g. {@code wss://gateway.discord.gg} (from {@code GET /gateway/bot});
   *                   {@code /?v=10&encoding=json} is appended
   * @param intents    the Identify intents, usually {@link #MESSAGE_INTENTS}
   * @param onDispatch every dispatch but READY and RESUMED, on the gateway's context
   * @param onFatal    called once with the reason when Discord closes with a code that forbids reconnecting
   */
  public DiscordGateway(Vertx vertx, String gatewayUrl, String token, int intents, Timing timing,
                        Consumer<Dispatch> onDispatch, Consumer<String> onFatal) {
    this.vertx = Objects.requireNonNull(vertx);
    this.context = vertx.getOrCreateContext();
    this.gatewayUrl = gatewayUrl;
    this.token = Objects.requireNonNull(token);
    this.intents = intents;
    this.timing = Objects.requireNonNull(timing);
    this.onDispatch = Objects.requireNonNull(onDispatch);
    this.onFatal = Objects.requireNonNull(onFatal);
  }

  /**
   * Connects, and keeps connecting until {@link #stop()} or a fatal close. The future completes when the first
   * socket is open (however many attempts that takes); it fails at once on a malformed gateway URL, and later
   * only if {@link #stop()} comes before any socket opened.
   */
  public Future<Void> start() {
    try {
      Endpoint.of(gatewayUrl);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    onContext(() -> {
      if (client != null || stopped) {
        return;
      }
      client = vertx.createWebSocketClient(new WebSocketClientOptions()
          .setMaxFrameSize(MAX_MESSAGE_BYTES)
          .setMaxMessageSize(MAX_MESSAGE_BYTES));
      running = true;
      connect();
    });
    return firstConnection.future();
  }

  /**
   * Closes the socket with 1000, which ends the session on Discord's side (the next start identifies anew),
   * cancels every timer and releases the client. Idempotent; a stopped gateway does not start again (make a new one).
   */
  public Future<Void> stop() {
    Promise<Void> done = Promise.promise();
    onContext(() -> {
      running = false;
      stopped = true;
      cancelTimer(reconnectTimer);
      reconnectTimer = -1;
      WebSocket open = socket;
      detach();
      forgetSession();
      firstConnection.tryFail("stopped before the gateway connected");
      Future<Void> closing = open == null || open.isClosed()
          ? Future.succeededFuture()
          : open.close(NORMAL_CLOSE, "stopping").recover(err -> Future.succeededFuture());
      WebSocketClient closingClient = client;
      closing.compose(v -> closingClient == null ? Future.<Void>succeededFuture() : closingClient.close())
          .onComplete(done);
    });
    return done.future();
  }

  public Status status() {
    return new Status(ready, sessionId, sequence, reconnects);
  }

  private void connect() {
    Endpoint target = Endpoint.of(sessionId != null && resumeUrl != null ? resumeUrl : gatewayUrl);
    client.connect(target.options()).onComplete(result -> {
      if (!running) {
        if (result.succeeded()) {
          result.result().close(NORMAL_CLOSE, "stopping");
        }
        return;
      }
      if (result.failed()) {
        long delay = backoff();
        log.warn("could not connect to the Discord gateway at {} ({}); retrying in {} ms",
            target, describe(result.cause()), delay);
        reconnectLater(delay);
        return;
      }
      opened(result.result(), target);
    });
  }

  private void opened(WebSocket ws, Endpoint target) {
    socket = ws;
    acked = true;
    ws.textMessageHandler(text -> {
      if (ws == socket) {
        receive(text);
      }
    });
    ws.exceptionHandler(err -> {
      if (ws == socket) {
        log.warn("Discord gateway connection failed: {}", describe(err));
        if (!ws.isClosed()) {
          ws.close(RESUMABLE_CLOSE, "transport error");
        }
      }
    });
    ws.closeHandler(v -> {
      if (ws == socket) {
        closed(ws.closeStatusCode(), ws.closeReason());
      }
    });
    helloTimer = vertx.setTimer(HELLO_TIMEOUT_MS, id -> {
      helloTimer = -1;
      if (ws == socket) {
        log.warn("no Hello within {} ms; reconnecting", HELLO_TIMEOUT_MS);
        dropAndReconnect("no Hello", backoff());
      }
    });
    log.info("connected to the Discord gateway at {}", target);
    firstConnection.tryComplete();
  }

  private void receive(String text) {
    try {
      JsonObject payload = new JsonObject(text);
      int op = payload.getValue("op") instanceof Number n ? n.intValue() : -1;
      switch (op) {
        case 0 -> dispatched(payload);
        case 1 -> heartbeat();
        case 7 -> {
          log.info("Discord asked to reconnect (op 7); resuming");
          dropAndReconnect("reconnect requested", backoff());
        }
        case 9 -> invalidSession(Boolean.TRUE.equals(payload.getValue("d")));
        case 10 -> hello(payload.getJsonObject("d"));
        case 11 -> acked = true;
        default -> log.debug("ignored Gateway op {}", op);
      }
    } catch (DecodeException e) {
      log.warn("ignored a Gateway frame that is not JSON");
    } catch (RuntimeException e) {
      log.warn("ignored a Gateway payload that does not read as documented: {}", e.toString());
    }
  }

  private void dispatched(JsonObject payload) {
    if (payload.getValue("s") instanceof Number s) {
      sequence = s.longValue();
    }
    String type = payload.getString("t");
    JsonObject data = payload.getValue("d") instanceof JsonObject d ? d : new JsonObject();
    if ("READY".equals(type)) {
      sessionId = data.getString("session_id");
      resumeUrl = usableResumeUrl(data.getString("resume_gateway_url"));
      sessionReady("identified");
    } else if ("RESUMED".equals(type)) {
      sessionReady("resumed the session");
    } else {
      try {
        onDispatch.accept(new Dispatch(type, data));
      } catch (RuntimeException e) {
        log.warn("the dispatch handler failed on {}", type, e);
      }
    }
  }

  private void sessionReady(String what) {
    ready = true;
    failures = 0;
    log.info("Discord gateway {} (last sequence {})", what, sequence);
  }

  private void hello(JsonObject d) {
    long interval = d.getLong("heartbeat_interval");
    if (interval < 1) {
      throw new IllegalArgumentException("heartbeat_interval " + interval);
    }
    cancelTimer(helloTimer);
    helloTimer = -1;
    cancelTimer(heartbeatTimer);
    acked = true;
    long first = Math.max(1, (long) (interval * ThreadLocalRandom.current().nextDouble()));
    heartbeatTimer = vertx.setPeriodic(first, interval, id -> beat());
    if (sessionId != null) {
      send(6, new JsonObject().put("token", token).put("session_id", sessionId).put("seq", sequence));
    } else {
      send(2, new JsonObject()
          .put("token", token)
          .put("intents", intents)
          .put("properties", new JsonObject()
              .put("os", System.getProperty("os.name", "linux").toLowerCase(Locale.ROOT))
              .put("browser", "scairelay")
              .put("device", "scairelay")));
    }
  }

  private void beat() {
    if (!acked) {
      log.warn("no Heartbeat ACK since the last heartbeat: the connection is a zombie; reconnecting to resume");
      dropAndReconnect("heartbeat ACK missing", backoff());
      return;
    }
    acked = false;
    heartbeat();
  }

  private void heartbeat() {
    send(1, sequence);
  }

  private void invalidSession(boolean resumable) {
    if (resumable && sessionId != null) {
      log.info("Discord invalidated the session (resumable); resuming");
      dropAndReconnect("invalid session", backoff());
      return;
    }
    forgetSession();
    long min = timing.reidentifyMin().toMillis();
    long wait = min + ThreadLocalRandom.current().nextLong(timing.reidentifyMax().toMillis() - min + 1);
    log.info("Discord invalidated the session; identifying anew in {} ms", wait);
    dropAndReconnect("invalid session", wait);
  }

  private void closed(Short code, String reason) {
    detach();
    if (!running) {
      return;
    }
    String fatal = code == null ? null : FATAL.get(code.intValue());
    if (fatal != null) {
      running = false;
      String why = "Discord closed the gateway with " + code + ": " + fatal;
      log.warn("{}; not reconnecting", why);
      try {
        onFatal.accept(why);
      } catch (RuntimeException e) {
        log.warn("the fatal-stop listener failed", e);
      }
      return;
    }
    boolean fresh = code != null && (code == INVALID_SEQ || code == SESSION_TIMED_OUT);
    if (fresh) {
      forgetSession();
    }
    long delay = backoff();
    String closeCode = reason == null || reason.isEmpty() ? String.valueOf(code) : code + " " + reason;
    log.info("the Discord gateway closed ({}); {} in {} ms", closeCode, sessionId != null ? "resuming" : "identifying anew", delay);
    reconnectLater(delay);
  }

  /** Closes the live socket with a code that keeps the session and connects again after {@code delayMs}. */
  private void dropAndReconnect(String reason, long delayMs) {
    WebSocket open = socket;
    detach();
    if (open != null && !open.isClosed()) {
      open.close(RESUMABLE_CLOSE, reason);
    }
    reconnectLater(delayMs);
  }

  /** Forgets the socket (its late events are ignored) and its timers. */
  private void detach() {
    socket = null;
    ready = false;
    cancelTimer(heartbeatTimer);
    cancelTimer(helloTimer);
    heartbeatTimer = -1;
    helloTimer = -1;
  }

  private void reconnectLater(long delayMs) {
    cancelTimer(reconnectTimer);
    reconnectTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
      reconnectTimer = -1;
      if (running) {
        reconnects++;
        connect();
      }
    });
  }

  /** The next wait: drawn between the initial backoff and a ceiling that doubles with each failure since a ready session. */
  private long backoff() {
    long initial = timing.backoffInitial().toMillis();
    long ceiling = Math.min(timing.backoffMax().toMillis(), initial << Math.min(failures, 20));
    failures++;
    return initial + ThreadLocalRandom.current().nextLong(ceiling - initial + 1);
  }

  private void forgetSession() {
    sessionId = null;
    sequence = null;
    resumeUrl = null;
  }

  private void send(int op, Object d) {
    if (socket != null) {
      socket.writeTextMessage(new JsonObject().put("op", op).put("d", d).encode())
          .onFailure(err -> log.warn("could not send Gateway op {}: {}", op, describe(err)));
    }
  }

  private String usableResumeUrl(String url) {
    if (url == null) {
      return null;
    }
    try {
      Endpoint.of(url);
      return url;
    } catch (IllegalArgumentException e) {
      log.warn("READY gave an unusable resume_gateway_url; resuming on the gateway URL instead");
      return null;
    }
  }

  private void cancelTimer(long id) {
    if (id >= 0) {
      vertx.cancelTimer(id);
    }
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private static String describe(Throwable err) {
    return err.getMessage() == null || err.getMessage().isBlank() ? err.getClass().getSimpleName() : err.getMessage();
  }

  /** A {@code ws://} or {@code wss://} Gateway base with the version and encoding appended to its path. */
  record Endpoint(String host, int port, boolean ssl, String uri) {
    static Endpoint of(String base) {
      URI parsed;
      try {
        parsed = new URI(Objects.requireNonNull(base, "no gateway URL").trim());
      } catch (URISyntaxException | NullPointerException e) {
        throw new IllegalArgumentException("not a gateway URL: " + base, e);
      }
      String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("ws") || scheme.equals("wss")) || parsed.getHost() == null) {
        throw new IllegalArgumentException("a gateway URL is ws:// or wss:// with a host: " + base);
      }
      boolean ssl = scheme.equals("wss");
      String host = parsed.getHost().startsWith("[") ? parsed.getHost().substring(1, parsed.getHost().length() - 1)
          : parsed.getHost();
      int port = parsed.getPort() > 0 ? parsed.getPort() : ssl ? 443 : 80;
      String path = parsed.getRawPath() == null ? "" : parsed.getRawPath().replaceAll("/+$", "");
      return new Endpoint(host, port, ssl, path + QUERY);
    }

    WebSocketConnectOptions options() {
      return new WebSocketConnectOptions()
          .setHost(host)
          .setPort(port)
          .setSsl(ssl)
          .setURI(uri)
          .setConnectTimeout(CONNECT_TIMEOUT_MS)
          .setTimeout(CONNECT_TIMEOUT_MS);
    }

    @Override
    public String toString() {
      return (ssl ? "wss://" : "ws://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + uri;
    }
  }
}
