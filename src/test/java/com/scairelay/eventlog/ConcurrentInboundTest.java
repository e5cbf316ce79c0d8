package com.scairelay.eventlog;

import com.scairelay.transport.SignatureScheme;
import com.scairelay.support.TestNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Hundreds of concurrent inbound posts, repeated event ids among them, written by group commit. */
class ConcurrentInboundTest {
  static TestNode node;
  static WebClient client;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_EVENTLOG_WINDOW_MS", "2"));
    client = WebClient.create(node.vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(100));
  }

  @AfterAll
  static void stop() {
    client.close();
    node.close();
  }

  @Test
  void concurrentPostsStoreExactlyOneEventPerIdAndOneShadowPerSender() {
    String roomId = node.createRoom("busy").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    String bridgeId = bridge.getString("bridge_id");
    String secret = bridge.getString("shared_secret");
    int ids = 150;
    int copies = 4;
    int senders = 25;
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < ids * copies; i++) {
      order.add(i % ids);
    }
    Collections.shuffle(order, new Random(42));
    long batchesBefore = node.node.eventLogStats().batches.sum();

    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int id : order) {
      Buffer body = TestNode.message("c-" + id, "U" + (id % senders), "message " + id).toBuffer();
      posts.add(client.post(node.port(), "127.0.0.1", "/v1/bridges/" + bridgeId + "/inbound")
          .putHeader(SignatureScheme.HEADER, SignatureScheme.header(secret, node.clock.instant().getEpochSecond(), body))
          .sendBuffer(body));
    }
    Future.all(posts).await();

    Map<String, List<String>> answersById = new HashMap<>();
    int accepted = 0;
    for (int i = 0; i < posts.size(); i++) {
      HttpResponse<Buffer> response = posts.get(i).result();
      assertThat(response.statusCode()).as(response.bodyAsString()).isIn(200, 202);
      if (response.statusCode() == 202) {
        accepted++;
      }
      answersById.computeIfAbsent("c-" + order.get(i), k -> new ArrayList<>()).add(response.bodyAsJsonObject().getString("event_id"));
    }
    assertThat(accepted).isEqualTo(ids);
    answersById.values().forEach(answers -> assertThat(answers).hasSize(copies).containsOnly(answers.get(0)));

    List<Row> stored = new ArrayList<>();
    node.sql("SELECT external_id, id FROM events WHERE origin_bridge_id = $1", bridgeId).forEach(stored::add);
    assertThat(stored).hasSize(ids);
    stored.forEach(row -> assertThat(answersById.get(row.getString("external_id"))).containsOnly(row.getString("id")));
    assertThat(node.queryValue("SELECT count(*) FROM participants WHERE bridge_id = $1", bridgeId)).isEqualTo((long) senders);

    long batches = node.node.eventLogStats().batches.sum() - batchesBefore;
    assertThat(batches).as("transactions for %d posts", posts.size()).isLessThan(posts.size() / 2);
  }
}
