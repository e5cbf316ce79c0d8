package com.scairelay.transport.discord;

import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundEvent;
import com.scairelay.transport.Listening;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The inbound side: one Gateway connection per bot token across the cluster, held by the node that owns
 * the key {@code discord-gateway:<first 16 hex of the token's SHA-256>}, for the live inbound bridges of
 * that token. Reconciled when a bridge or the cluster changes, and every {@code reconcileEvery}: connections
 * are opened for owned tokens and closed for the others. A dispatch goes to every bridge of its channel
 * ({@link DiscordInbound}) and into the room through the sink. A fatal close (a revoked token, the Message
 * Content intent not enabled) raises the admin alert for the token's bridges and is not retried until the
 * token has no live bridge (pause and resume a bridge once the bot is fixed).
 *
 * <p>Runs on the listening verticle's event loop only: its maps need no lock.
 */
final class DiscordListener {
  private static final Logger log = LoggerFactory.getLogger(DiscordListener.class);
  static final int INTENTS = DiscordGateway.GUILD_MESSAGES | DiscordGateway.MESSAGE_CONTENT;
  static final String KEY_PREFIX = "discord-gateway:";
  private static final int STORE_ATTEMPTS = 5;

  /** One bot's connection and the bridges it serves now. */
  private static final class Connection {
    final DiscordGateway gateway;
    List<InboundBridge> bridges;

    Connection(DiscordGateway gateway, List<InboundBridge> bridges) {
      this.gateway = gateway;
      this.bridges = bridges;
    }
  }

  private final String gatewayUrl;
  private final DiscordGateway.Timing timing;
  private final Duration reconcileEvery;
  private final Map<String, Connection> open = new HashMap<>();
  /** Keys whose token Discord refused for good, and the bridges alerted. */
  private final Map<String, Set<String>> refused = new HashMap<>();
  private Listening listening;
  private DiscordInbound inbound;
  private long timer = -1;
  private boolean reconciling;
  private boolean again;
  private boolean stopped;

  DiscordListener(String gatewayUrl, DiscordGateway.Timing timing, Duration reconcileEvery) {
    this.gatewayUrl = gatewayUrl;
    this.timing = timing;
    this.reconcileEvery = reconcileEvery;
  }

  Future<Void> start(Listening listening) {
    this.listening = listening;
    this.inbound = new DiscordInbound(listening.context().foreignIds());
    listening.onChange().accept(this::reconcile);
    timer = listening.vertx().setPeriodic(reconcileEvery.toMillis(), id -> reconcile());
    reconcile();
    return Future.succeededFuture();
  }

  Future<Void> stop() {
    stopped = true;
    if (listening == null) {
      return Future.succeededFuture();
    }
    listening.vertx().cancelTimer(timer);
    List<Future<Void>> closing = open.values().stream().map(c -> c.gateway.stop()).toList();
    open.clear();
    return Future.join(closing).mapEmpty();
  }

  /** The ownership key of a bot token: never the token itself. */
  static String key(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return KEY_PREFIX + HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Opens and closes connections to match the live bridges; one reconcile at a time, another after it if asked. */
  private void reconcile() {
    if (stopped) {
      return;
    }
    if (reconciling) {
      again = true;
      return;
    }
    reconciling = true;
    listening.bridges().all(DiscordConnector.NAME)
        .onSuccess(inbound::ourWebhooks)
        .compose(all -> listening.bridges().of(DiscordConnector.NAME))
        .onSuccess(this::apply)
        .onFailure(err -> log.warn("could not list the Discord bridges; the next reconcile tries again: {}", err.toString()))
        .onComplete(ar -> {
          reconciling = false;
          if (again) {
            again = false;
            reconcile();
          }
        });
  }

  private void apply(List<InboundBridge> bridges) {
    if (stopped) {
      return;
    }
    Map<String, List<InboundBridge>> byKey = new HashMap<>();
    Map<String, String> tokens = new HashMap<>();
    for (InboundBridge bridge : bridges) {
      String token = bridge.credentials().getString(DiscordBridgeSetup.CREDENTIAL_BOT_TOKEN);
      if (token != null && bridge.config().getString(DiscordBridgeSetup.CONFIG_CHANNEL_ID) != null) {
        String key = key(token);
        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(bridge);
        tokens.put(key, token);
      }
    }
    refused.keySet().retainAll(byKey.keySet());
    for (String key : new ArrayList<>(open.keySet())) {
      if (!byKey.containsKey(key) || !listening.owns().test(key)) {
        log.info("closing the Discord gateway of {}: {}", key, byKey.containsKey(key) ? "another node owns it" : "no live bridge");
        open.remove(key).gateway.stop();
      }
    }
    byKey.forEach((key, ofToken) -> {
      Connection connection = open.get(key);
      if (connection != null) {
        connection.bridges = ofToken;
      } else if (!refused.containsKey(key) && listening.owns().test(key)) {
        connect(key, tokens.get(key), ofToken);
      }
    });
  }

  private void connect(String key, String token, List<InboundBridge> bridges) {
    log.info("opening the Discord gateway of {} for {} bridge(s)", key, bridges.size());
    Connection[] self = new Connection[1];
    DiscordGateway gateway = new DiscordGateway(listening.vertx(), gatewayUrl, token, INTENTS, timing,
        dispatch -> dispatched(self[0], dispatch), reason -> fatal(key, self[0], reason));
    self[0] = new Connection(gateway, bridges);
    open.put(key, self[0]);
    gateway.start().onFailure(err -> {
      if (open.get(key) == self[0]) {
        log.error("the Discord gateway of {} cannot connect ({}); check discord.gateway_url", key, err.getMessage());
      }
    });
  }

  /** Discord closed for good: alert the token's bridges once, and do not reconnect. */
  private void fatal(String key, Connection connection, String reason) {
    if (open.get(key) == connection) {
      open.remove(key);
    }
    Set<String> alerted = refused.computeIfAbsent(key, k -> new HashSet<>());
    for (InboundBridge bridge : connection.bridges) {
      if (alerted.add(bridge.id())) {
        listening.alerts().raise(bridge.id(), reason)
            .onFailure(err -> log.warn("could not raise the alert of bridge {}: {}", bridge.id(), err.toString()));
      }
    }
  }

  private void dispatched(Connection connection, Dispatch dispatch) {
    JsonObject data = dispatch.data();
    switch (dispatch.type() == null ? "" : dispatch.type()) {
      case "MESSAGE_CREATE" -> forEachBridge(connection, data, bridge -> Future.succeededFuture(inbound.created(bridge, data)));
      case "MESSAGE_UPDATE" -> forEachBridge(connection, data, bridge -> inbound.updated(bridge, data));
      case "MESSAGE_DELETE" -> forEachBridge(connection, data, bridge -> inbound.deleted(bridge, data.getString("id")));
      case "MESSAGE_DELETE_BULK" -> {
        if (data.getValue("ids") instanceof JsonArray ids) {
          for (Object id : ids) {
            forEachBridge(connection, data, bridge -> inbound.deleted(bridge, String.valueOf(id)));
          }
        }
      }
      default -> {
      }
    }
  }

  private void forEachBridge(Connection connection, JsonObject message,
                             java.util.function.Function<InboundBridge, Future<Optional<InboundEvent>>> read) {
    for (InboundBridge bridge : connection.bridges) {
      if (!DiscordInbound.ofChannel(bridge, message)) {
        continue;
      }
      read.apply(bridge).onComplete(event -> {
        if (event.failed()) {
          log.warn("bridge {}: a Discord message could not be read: {}", bridge.id(), event.cause().toString());
        } else {
          event.result().ifPresent(e -> store(bridge, e, 1));
        }
      });
    }
  }

  /**
   * Stores the event; when storage fails (PostgreSQL away) tries again a few times, a second more each time
   * (the event id deduplicates): Discord does not send a message again, what is not stored by then is lost.
   */
  private void store(InboundBridge bridge, InboundEvent event, int attempt) {
    listening.sink().store(bridge, event).onFailure(err -> {
      if (attempt >= STORE_ATTEMPTS || stopped) {
        log.warn("bridge {}: Discord message {} was not stored after {} attempts: {}", bridge.id(), event.messageId(), attempt,
            err.toString());
        return;
      }
      listening.vertx().setTimer(1_000L * attempt, id -> store(bridge, event, attempt + 1));
    });
  }
}
