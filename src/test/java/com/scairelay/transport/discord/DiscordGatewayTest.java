package com.scairelay.transport.discord;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class DiscordGatewayTest {
  static final String TOKEN = "bot-token-for-tests";
  static final DiscordGateway.Timing FAST = new DiscordGateway.Timing(
      Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(10), Duration.ofMillis(50));

  FakeGateway discord;
  DiscordGateway gateway;
  final List<Dispatch> dispatches = new CopyOnWriteArrayList<>();
  final List<Boolean> dispatchedOnEventLoop = new CopyOnWriteArrayList<>();
  final List<String> fatal = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startFakeDiscord(Vertx vertx) throws Exception {
    discord = new FakeGateway(vertx);
    discord.listen(0);
  }

  @AfterEach
  void stopGateway() throws Exception {
    if (gateway != null) {
      gateway.stop().await(5, TimeUnit.SECONDS);
    }
  }

  DiscordGateway gateway(Vertx vertx, String url) {
    gateway = new DiscordGateway(vertx, url, TOKEN, DiscordGateway.MESSAGE_INTENTS, FAST,
        dispatch -> {
          dispatchedOnEventLoop.add(Context.isOnEventLoopThread());
          dispatches.add(dispatch);
        },
        fatal::add);
    return gateway;
  }

  /** Connects to the fake and waits for READY. */
  FakeGateway.Connection connectedGateway(Vertx vertx) throws Exception {
    gateway(vertx, discord.url()).start().await(5, TimeUnit.SECONDS);
    eventually().until(() -> gateway.status().connected());
    return discord.connection(0);
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10));
  }

  @Test
  void identifiesWithTheTokenAndTheMessageContentIntent(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    assertThat(first.path).isEqualTo("/");
    assertThat(first.query).isEqualTo("v=10&encoding=json");
    JsonObject identify = first.received(2).get(0).getJsonObject("d");
    assertThat(identify.getString("token")).isEqualTo(TOKEN);
    assertThat(identify.getInteger("intents")).isEqualTo((1 << 9) | (1 << 12) | (1 << 15));
    assertThat(identify.getJsonObject("properties").getString("browser")).isEqualTo("scairelay");
    assertThat(identify.getJsonObject("properties").getString("device")).isEqualTo("scairelay");
    assertThat(identify.getJsonObject("properties").getString("os")).isNotBlank();
    assertThat(gateway.status().sessionId()).isEqualTo("session-1");
    assertThat(gateway.status().lastSequence()).isEqualTo(1L);
    assertThat(gateway.status().reconnects()).isZero();
  }

  @Test
  void heartbeatsRepeatedlyWithTheLastSequenceSeen(Vertx vertx) throws Exception {
    discord.heartbeatInterval = 100;
    FakeGateway.Connection first = connectedGateway(vertx);
    first.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m1"));
    first.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m2"));
    eventually().until(() -> dispatches.size() == 2);

    int before = first.received(1).size();
    eventually().until(() -> first.received(1).size() >= before + 3);

    List<JsonObject> heartbeats = first.received(1);
    assertThat(heartbeats.get(heartbeats.size() - 1).getLong("d")).isEqualTo(3L);
    assertThat(gateway.status().connected()).isTrue();
  }

  @Test
  void heartbeatsAtOnceWhenDiscordAsksForOneWithANullSequenceBeforeAnyDispatch(Vertx vertx) throws Exception {
    discord.heartbeatInterval = 60_000;
    discord.readyOnIdentify = false;
    gateway(vertx, discord.url()).start().await(5, TimeUnit.SECONDS);
    eventually().until(() -> discord.connections.size() == 1 && !discord.connection(0).received(2).isEmpty());
    FakeGateway.Connection first = discord.connection(0);
    int before = first.received(1).size();

    first.send(1, null);

    await().atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(5))
        .until(() -> first.received(1).size() > before);
    JsonObject heartbeat = first.received(1).get(before);
    assertThat(heartbeat.containsKey("d")).isTrue();
    assertThat(heartbeat.getValue("d")).isNull();
    assertThat(gateway.status().connected()).isFalse();
  }

  @Test
  void messageDispatchesReachTheConsumerInOrderOnTheEventLoop(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    first.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m1").put("content", "hello"));
    first.send(42, new JsonObject().put("unknown", true));
    first.ws.writeTextMessage("not json");
    first.dispatch("MESSAGE_UPDATE", new JsonObject().put("id", "m1").put("content", "hello, edited"));
    first.dispatch("MESSAGE_DELETE", new JsonObject().put("id", "m1"));

    eventually().until(() -> dispatches.size() == 3);
    assertThat(dispatches).extracting(Dispatch::type).containsExactly("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE");
    assertThat(dispatches.get(1).data().getString("content")).isEqualTo("hello, edited");
    assertThat(dispatchedOnEventLoop).containsOnly(true);
    assertThat(gateway.status().lastSequence()).isEqualTo(4L);
    assertThat(gateway.status().connected()).isTrue();
  }

  @Test
  void droppedConnectionIsResumedOnTheResumeUrlWithSessionAndSequence(Vertx vertx) throws Exception {
    NetworkPath path = new NetworkPath(vertx, discord.server.actualPort());
    gateway(vertx, "ws://127.0.0.1:" + path.port()).start().await(5, TimeUnit.SECONDS);
    eventually().until(() -> gateway.status().connected());
    FakeGateway.Connection first = discord.connection(0);
    first.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m1"));
    first.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m2"));
    eventually().until(() -> dispatches.size() == 2);

    path.cut();

    FakeGateway.Connection resumed = resumedConnection(1);
    JsonObject resume = resumed.received(6).get(0).getJsonObject("d");
    assertThat(resume.getString("token")).isEqualTo(TOKEN);
    assertThat(resume.getString("session_id")).isEqualTo("session-1");
    assertThat(resume.getLong("seq")).isEqualTo(3L);
    assertThat(resumed.received(2)).isEmpty();
    eventually().until(() -> gateway.status().connected());
    assertThat(gateway.status().reconnects()).isEqualTo(1);

    resumed.dispatch("MESSAGE_CREATE", new JsonObject().put("id", "m3"));
    eventually().until(() -> dispatches.size() == 3);
  }

  @Test
  void reconnectRequestIsResumedAfterClosingWithACodeThatKeepsTheSession(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    first.send(7, null);

    FakeGateway.Connection resumed = resumedConnection(1);
    assertThat(resumed.received(6).get(0).getJsonObject("d").getString("session_id")).isEqualTo("session-1");
    eventually().until(() -> first.closeCode != null);
    assertThat(first.closeCode).isNotIn((short) 1000, (short) 1001);
    eventually().until(() -> gateway.status().connected());
  }

  @Test
  void invalidSessionThatCannotBeResumedIdentifiesAnewOnTheGatewayUrl(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    first.send(9, false);

    eventually().until(() -> discord.connections.size() == 2 && !discord.connection(1).received(2).isEmpty());
    FakeGateway.Connection second = discord.connection(1);
    assertThat(second.path).isEqualTo("/");
    assertThat(second.received(6)).isEmpty();
    eventually().until(() -> gateway.status().connected());
    assertThat(gateway.status().sessionId()).isEqualTo("session-2");
  }

  @Test
  void invalidSessionThatCanBeResumedResumes(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    first.send(9, true);

    FakeGateway.Connection resumed = resumedConnection(1);
    assertThat(resumed.received(6).get(0).getJsonObject("d").getString("session_id")).isEqualTo("session-1");
  }

  @Test
  void missingHeartbeatAckClosesTheZombieAndResumes(Vertx vertx) throws Exception {
    discord.heartbeatInterval = 100;
    FakeGateway.Connection first = connectedGateway(vertx);

    discord.acking = false;

    eventually().until(() -> first.closeCode != null);
    assertThat(first.closeCode).isNotIn((short) 1000, (short) 1001);
    discord.acking = true;
    FakeGateway.Connection resumed = resumedConnection(1);
    assertThat(resumed.received(6).get(0).getJsonObject("d").getString("session_id")).isEqualTo("session-1");
    eventually().until(() -> gateway.status().connected());
  }

  @Test
  void authenticationFailedIsFatalAndNeverRetried(Vertx vertx) throws Exception {
    discord.closeIdentifyWith = 4004;
    gateway(vertx, discord.url()).start().await(5, TimeUnit.SECONDS);

    eventually().until(() -> !fatal.isEmpty());
    assertThat(fatal).singleElement().asString().contains("authentication failed");
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> discord.connections.size() == 1);
    assertThat(gateway.status().connected()).isFalse();
    assertThat(gateway.status().reconnects()).isZero();
  }

  @Test
  void disallowedIntentsSayWhatToEnable(Vertx vertx) throws Exception {
    discord.closeIdentifyWith = 4014;
    gateway(vertx, discord.url()).start().await(5, TimeUnit.SECONDS);

    eventually().until(() -> !fatal.isEmpty());
    assertThat(fatal.get(0)).contains("Message Content intent").contains("Developer Portal");
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> discord.connections.size() == 1);
  }

  @Test
  void sessionTimedOutStartsAFreshSession(Vertx vertx) throws Exception {
    FakeGateway.Connection first = connectedGateway(vertx);

    first.ws.close((short) 4009, "Session timed out");

    eventually().until(() -> discord.connections.size() == 2 && !discord.connection(1).received(2).isEmpty());
    assertThat(discord.connection(1).path).isEqualTo("/");
    eventually().until(() -> "session-2".equals(gateway.status().sessionId()));
  }

  @Test
  void unreachableGatewayIsRetriedWithBackoffUntilItListens(Vertx vertx) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Future<Void> started = gateway(vertx, "ws://127.0.0.1:" + port).start();
    eventually().until(() -> gateway.status().reconnects() >= 3);
    assertThat(started.isComplete()).isFalse();

    FakeGateway late = new FakeGateway(vertx);
    late.listen(port);

    started.await(5, TimeUnit.SECONDS);
    eventually().until(() -> gateway.status().connected());
    assertThat(late.connection(0).received(2)).hasSize(1);
  }

  @Test
  void malformedGatewayUrlFailsStart(Vertx vertx) {
    Future<Void> started = gateway(vertx, "https://gateway.discord.gg").start();

    assertThat(started.failed()).isTrue();
    assertThat(gateway(vertx, "not a url at all").start().failed()).isTrue();
  }

  @Test
  void stopClosesWith1000AndNeverReconnects(Vertx vertx) throws Exception {
    discord.heartbeatInterval = 100;
    FakeGateway.Connection first = connectedGateway(vertx);

    gateway.stop().await(5, TimeUnit.SECONDS);

    eventually().until(() -> first.closeCode != null);
    assertThat(first.closeCode).isEqualTo((short) 1000);
    assertThat(gateway.status().connected()).isFalse();
    assertThat(gateway.status().sessionId()).isNull();
    int heartbeats = first.received(1).size();
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
        .until(() -> discord.connections.size() == 1 && first.received(1).size() == heartbeats);
  }

  FakeGateway.Connection resumedConnection(int index) {
    eventually().until(() -> discord.connections.size() > index && !discord.connection(index).received(6).isEmpty());
    FakeGateway.Connection resumed = discord.connection(index);
    assertThat(resumed.path).startsWith("/resume");
    assertThat(resumed.query).isEqualTo("v=10&encoding=json");
    return resumed;
  }

  /**
   * A Discord Gateway on loopback, answering as https://discord.com/developers/docs/events/gateway describes:
   * Hello on connect, an ACK per heartbeat, READY (with a resume URL on its own path) per Identify, RESUMED for a
   * Resume of the current session and Invalid Session otherwise; each dispatch carries the next sequence number.
   */
  static final class FakeGateway {
    final Vertx vertx;
    final List<Connection> connections = new CopyOnWriteArrayList<>();
    final AtomicInteger sessions = new AtomicInteger();
    final AtomicLong sequence = new AtomicLong();
    volatile long heartbeatInterval = 1_000;
    volatile boolean acking = true;
    volatile Integer closeIdentifyWith;
    volatile boolean readyOnIdentify = true;
    volatile String session;
    HttpServer server;

    FakeGateway(Vertx vertx) {
      this.vertx = vertx;
    }

    void listen(int port) throws Exception {
      server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
          .webSocketHandler(this::accept);
      server.listen().await(5, TimeUnit.SECONDS);
    }

    String url() {
      return "ws://127.0.0.1:" + server.actualPort();
    }

    Connection connection(int index) {
      return connections.get(index);
    }

    private void accept(ServerWebSocket ws) {
      Connection connection = new Connection(ws);
      connections.add(connection);
      ws.closeHandler(v -> connection.closeCode = ws.closeStatusCode());
      ws.textMessageHandler(text -> connection.receive(new JsonObject(text)));
      connection.send(10, new JsonObject().put("heartbeat_interval", heartbeatInterval));
    }

    final class Connection {
      final ServerWebSocket ws;
      final String path;
      final String query;
      final List<JsonObject> received = new CopyOnWriteArrayList<>();
      volatile Short closeCode;

      Connection(ServerWebSocket ws) {
        this.ws = ws;
        this.path = ws.path();
        this.query = ws.query();
      }

      List<JsonObject> received(int op) {
        return received.stream().filter(payload -> payload.getInteger("op") == op).toList();
      }

      void send(int op, Object d) {
        ws.writeTextMessage(new JsonObject().put("op", op).put("d", d).put("s", null).put("t", null).encode());
      }

      void dispatch(String type, JsonObject d) {
        ws.writeTextMessage(new JsonObject().put("op", 0).put("d", d).put("s", sequence.incrementAndGet())
            .put("t", type).encode());
      }

      private void receive(JsonObject payload) {
        received.add(payload);
        JsonObject d = payload.getValue("d") instanceof JsonObject object ? object : null;
        switch (payload.getInteger("op")) {
          case 1 -> {
            if (acking) {
              send(11, null);
            }
          }
          case 2 -> {
            if (closeIdentifyWith != null) {
              ws.close(closeIdentifyWith.shortValue(), "closed by the test");
              return;
            }
            if (!readyOnIdentify) {
              return;
            }
            session = "session-" + sessions.incrementAndGet();
            sequence.set(0);
            dispatch("READY", new JsonObject()
                .put("v", 10)
                .put("session_id", session)
                .put("resume_gateway_url", url() + "/resume")
                .put("user", new JsonObject().put("id", "100").put("username", "relay").put("bot", true)));
          }
          case 6 -> {
            if (d != null && d.getString("session_id").equals(session)) {
              dispatch("RESUMED", new JsonObject());
            } else {
              send(9, false);
            }
          }
          default -> { }
        }
      }
    }
  }

  /**
   * A TCP relay on loopback between the gateway and the fake, standing for the network: {@link #cut()} closes
   * both TCP connections, so the client sees its socket end without a WebSocket close frame.
   */
  static final class NetworkPath {
    final NetServer server;
    final NetClient client;
    final List<NetSocket> sockets = new CopyOnWriteArrayList<>();

    NetworkPath(Vertx vertx, int targetPort) throws Exception {
      client = vertx.createNetClient();
      server = vertx.createNetServer().connectHandler(front -> {
        front.pause();
        client.connect(targetPort, "127.0.0.1").onSuccess(back -> {
          sockets.add(front);
          sockets.add(back);
          front.handler(back::write);
          back.handler(front::write);
          front.closeHandler(v -> back.close());
          back.closeHandler(v -> front.close());
          front.resume();
        }).onFailure(err -> front.close());
      });
      server.listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    }

    int port() {
      return server.actualPort();
    }

    void cut() {
      sockets.forEach(NetSocket::close);
    }
  }
}
