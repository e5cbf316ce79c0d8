package com.scairelay.transport.discord;

import com.scairelay.support.MutableClock;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two clustered nodes and one Discord bot token: exactly one of them holds the token's Gateway
 * connection (the rendezvous owner of the token's key), and when that node leaves, the other dials
 * and what Discord dispatches reaches the room through it.
 */
class DiscordClusterTest {
  static Vertx fakes;
  static DiscordGatewayTest.FakeGateway gateway;
  static FakeDiscordApi api;
  static TestNode a;
  static TestNode b;

  @BeforeAll
  static void start() throws Exception {
    fakes = Vertx.vertx();
    gateway = new DiscordGatewayTest.FakeGateway(fakes);
    gateway.heartbeatInterval = 60_000;
    gateway.listen(0);
    api = new FakeDiscordApi();
    PgConnectOptions pg = TestPostgres.freshDatabase();
    MutableClock clock = MutableClock.startingNow();
    List<Integer> ports = List.of(TestNode.freePort(), TestNode.freePort());
    Map<String, String> env = Map.of("RELAY_DISCORD_API_URL", api.apiUrl(), "RELAY_DISCORD_GATEWAY_URL", gateway.url());
    a = TestNode.startInCluster(pg, ports.get(0), ports, clock, env);
    b = TestNode.startInCluster(pg, ports.get(1), ports, clock, env);
    await().atMost(20, TimeUnit.SECONDS).until(() -> sharing(a) == 2 && sharing(b) == 2);
  }

  @AfterAll
  static void stop() {
    for (TestNode node : java.util.Arrays.asList(b, a)) {
      if (node != null) {
        node.close();
      }
    }
    api.close();
    fakes.close().await();
  }

  static long sharing(TestNode node) {
    return cluster(node, "").getJsonArray("members").stream().map(JsonObject.class::cast).filter(m -> m.getBoolean("owns_targets")).count();
  }

  static JsonObject cluster(TestNode node, String query) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/cluster" + query), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  static List<DiscordGatewayTest.FakeGateway.Connection> identifiedWith(String token) {
    return gateway.connections.stream().filter(c -> c.received(2).stream()
        .anyMatch(i -> token.equals(i.getJsonObject("d").getString("token")))).toList();
  }

  @Test
  void oneNodeOfTheClusterHoldsATokensGatewayAndTheOtherTakesItOverWhenItLeaves() {
    FakeDiscordApi.Hook hook = api.addWebhook();
    String token = api.addBot(api.snowflake(), hook.channelId);
    String roomId = a.createRoom("discord in a cluster").getString("room_id");
    HttpResponse<Buffer> created = a.send(a.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject().put("transport", "discord")
        .put("direction", "inbound").put("room_id", roomId).put("name", "discord in").put("discord_channel_id", hook.channelId)
        .put("discord_bot_token", token));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String bridgeId = created.bodyAsJsonObject().getString("bridge_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> identifiedWith(token).size() == 1);
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> identifiedWith(token).size() == 1);
    String owner = cluster(b, "?target_id=" + DiscordListener.key(token)).getJsonObject("target").getString("owner");
    TestNode holder = owner.equals(a.node.nodeId()) ? a : b;
    TestNode survivor = holder == a ? b : a;

    holder.close();
    if (holder == a) {
      a = null;
    } else {
      b = null;
    }
    await().atMost(20, TimeUnit.SECONDS).until(() -> identifiedWith(token).size() == 2);
    DiscordGatewayTest.FakeGateway.Connection second = identifiedWith(token).get(1);
    second.dispatch("MESSAGE_CREATE", DiscordInboundTest.message("9401", hook.channelId,
        DiscordInboundTest.user("95", "fay", null, null), "heard by the survivor"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> (Long) survivor.queryValue(
        "SELECT count(*) FROM events WHERE origin_bridge_id = $1 AND content->>'body' = 'heard by the survivor'", bridgeId) == 1L);
  }
}
