package com.scairelay.transport.discord;

import com.scairelay.transport.ForeignIds;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundContext;
import com.scairelay.transport.InboundEvent;
import com.scairelay.transport.Listening;
import com.scairelay.transport.ShadowProfiles;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Gateway connections a node holds, against the fake Gateway: one per bot token, only while the node owns
 * the token's key (the cluster's rendezvous owner), hung up when the key moves away or the token's last bridge
 * goes; a dispatch reaches every bridge of its channel and no other.
 */
class DiscordListenerTest {
  static final DiscordGateway.Timing FAST = new DiscordGateway.Timing(Duration.ofMillis(20), Duration.ofMillis(200),
      Duration.ofMillis(10), Duration.ofMillis(50));

  Vertx vertx;
  Context context;
  DiscordGatewayTest.FakeGateway gateway;
  DiscordListener listener;
  final List<InboundBridge> bridges = new CopyOnWriteArrayList<>();
  final Set<String> owned = ConcurrentHashMap.newKeySet();
  final List<Runnable> onChange = new CopyOnWriteArrayList<>();
  final List<String> stored = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    gateway = new DiscordGatewayTest.FakeGateway(vertx);
    gateway.heartbeatInterval = 60_000;
    gateway.listen(0);
    context = vertx.getOrCreateContext();
    listener = new DiscordListener(gateway.url(), FAST, Duration.ofHours(1));
    Listening listening = new Listening(vertx, Clock.systemUTC(),
        transport -> Future.succeededFuture(List.copyOf(bridges)),
        owned::contains, onChange::add,
        (InboundBridge bridge, InboundEvent event) -> {
          stored.add(bridge.id() + ":" + event.eventId());
          return Future.succeededFuture(true);
        },
        (bridgeId, reason) -> Future.succeededFuture(),
        new InboundContext(null, ForeignIds.NONE, ShadowProfiles.NONE, Clock.systemUTC()));
    onContext(() -> listener.start(listening)).await(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    onContext(() -> listener.stop()).await(5, TimeUnit.SECONDS);
    vertx.close().await();
  }

  @Test
  void onlyTheOwnerOfATokensKeyDialsAndItHangsUpWhenTheKeyMoves() {
    String mine = "token-mine-0123456789abcdef";
    String theirs = "token-theirs-0123456789abcdef";
    owned.add(DiscordListener.key(mine));
    bridges.add(bridge("brg_1", theirs, "500"));
    bridges.add(bridge("brg_2", mine, "501"));
    changed();
    await().atMost(5, TimeUnit.SECONDS).until(() -> identified(mine) == 1);
    assertThat(identified(theirs)).as("another node owns that token's key").isZero();

    owned.add(DiscordListener.key(theirs));
    changed();
    await().atMost(5, TimeUnit.SECONDS).until(() -> identified(theirs) == 1);

    owned.remove(DiscordListener.key(theirs));
    changed();
    await().atMost(5, TimeUnit.SECONDS).until(() -> closeCodeOf(theirs) != null);
    assertThat(closeCodeOf(theirs)).isEqualTo((short) 1000);
    assertThat(closeCodeOf(mine)).as("the key still owned keeps its connection").isNull();
    assertThat(gateway.connections).hasSize(2);
  }

  @Test
  void bridgesOfOneTokenShareOneConnectionAndEachHearsOnlyItsChannel() {
    String token = "token-two-0123456789abcdef";
    owned.add(DiscordListener.key(token));
    bridges.add(bridge("brg_a", token, "600"));
    bridges.add(bridge("brg_b", token, "601"));
    changed();
    await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.connections.size() == 1 && !gateway.connection(0).received(2).isEmpty());

    gateway.connection(0).dispatch("MESSAGE_CREATE", DiscordInboundTest.message("m1", "601",
        DiscordInboundTest.user("9", "nine", null, null), "to b"));
    gateway.connection(0).dispatch("MESSAGE_CREATE", DiscordInboundTest.message("m2", "600",
        DiscordInboundTest.user("9", "nine", null, null), "to a"));
    await().atMost(5, TimeUnit.SECONDS).until(() -> stored.size() == 2);
    assertThat(stored).containsExactly("brg_b:m1", "brg_a:m2");

    bridges.clear();
    changed();
    await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.connection(0).closeCode != null);
    assertThat(gateway.connections).as("the key is the token's hash, its bridges share it").hasSize(1);
  }

  @Test
  void theOwnershipKeyIsTheTokensHashNeverTheToken() {
    String key = DiscordListener.key("secret-token-value-0123456789");
    assertThat(key).startsWith("discord-gateway:").hasSize("discord-gateway:".length() + 16).doesNotContain("secret");
    assertThat(DiscordListener.key("secret-token-value-0123456789")).isEqualTo(key);
    assertThat(DiscordListener.key("another-token-value-0123456789")).isNotEqualTo(key);
  }

  private long identified(String token) {
    return gateway.connections.stream().flatMap(c -> c.received(2).stream())
        .filter(identify -> token.equals(identify.getJsonObject("d").getString("token"))).count();
  }

  private Short closeCodeOf(String token) {
    return gateway.connections.stream()
        .filter(c -> c.received(2).stream().anyMatch(identify -> token.equals(identify.getJsonObject("d").getString("token"))))
        .findFirst().orElseThrow().closeCode;
  }

  private static InboundBridge bridge(String id, String token, String channelId) {
    return new InboundBridge(id, "room_" + id, new JsonObject().put("discord_channel_id", channelId),
        new JsonObject().put("discord_bot_token", token), List.of());
  }

  private void changed() {
    onChange.forEach(task -> context.runOnContext(v -> task.run()));
  }

  private <T> Future<T> onContext(java.util.function.Supplier<Future<T>> action) {
    io.vertx.core.Promise<T> done = io.vertx.core.Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future();
  }
}
