package com.scairelay.eventlog;

import com.scairelay.store.Fqids;
import com.scairelay.support.TestNode;
import com.scairelay.targets.Outbox;
import com.scairelay.targets.Ownership;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The group-committed write path: one bad message never fails the others of its batch, a failed
 * batch stores nothing, and what cannot be stored exactly as signed is refused at the edge.
 */
class WritePathTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void poisonIsRefusedAtTheEdgeAloneWhileHonestPostsInTheSameBatchesCommit() {
    String roomId = node.createRoom("poison").getString("room_id");
    JsonObject honest = node.createBridge(roomId, "inbound");
    JsonObject poisoner = node.createBridge(roomId, "inbound");
    List<Future<HttpResponse<Buffer>>> honestPosts = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> poisonPosts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      honestPosts.add(node.postInbound(honest.getString("bridge_id"), honest.getString("shared_secret"),
          TestNode.message("h-" + i, "U1", "honest " + i)));
      if (i % 4 == 0) {
        JsonObject poison = i % 8 == 0
            ? TestNode.message("p-" + i, "U2", "nul \u0000 inside")
            : TestNode.message("p-" + i, "U2", "lone \ud800 surrogate");
        poisonPosts.add(node.postInbound(poisoner.getString("bridge_id"), poisoner.getString("shared_secret"), poison));
      }
    }

    assertThat(Future.all(honestPosts).await().list()).allSatisfy(r ->
        assertThat(((HttpResponse<?>) r).statusCode()).isEqualTo(202));
    assertThat(Future.all(poisonPosts).await().list()).allSatisfy(r -> {
      HttpResponse<?> response = (HttpResponse<?>) r;
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(response.bodyAsJsonObject().getString("detail")).containsAnyOf("NUL character", "surrogate pair");
    });
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1", roomId)).isEqualTo(200L);
  }

  @Test
  void aBatchFailingOnOneItemsDataStoresAllTheOthersAndRefusesOnlyThatOne() throws Exception {
    String roomId = node.createRoom("isolation").getString("room_id");
    EventLog.Stats stats = new EventLog.Stats();
    EventLog eventLog = eventLog(stats);
    List<Future<Appended>> appends = onContext(() -> {
      List<Future<Appended>> all = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        // Past the edge's check on purpose: PostgreSQL refuses a NUL in jsonb, so the whole batch fails once.
        String body = i == 17 ? "bad \u0000 text" : "good " + i;
        all.add(eventLog.append(new EventWrite(roomId, Sender.nativeUser("@n:example.org", "N"),
            new JsonObject().put("msgtype", "swp.text").put("body", body), null, null, null, null, null)));
      }
      return all;
    });

    Future.join(appends).transform(ar -> Future.succeededFuture()).await(10, java.util.concurrent.TimeUnit.SECONDS);
    for (int i = 0; i < appends.size(); i++) {
      if (i == 17) {
        assertThat(appends.get(i).cause()).isInstanceOf(Unstorable.class);
      } else {
        assertThat(appends.get(i).succeeded()).as("append " + i).isTrue();
      }
    }
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1", roomId)).isEqualTo(29L);
    assertThat(stats.batches.sum()).as("the failed batch was written again in parts").isGreaterThan(1);
  }

  @Test
  void aBatchThatFailsStoresNothingAndAnswers503SoTheSameIdsAreNewOnRetry() {
    String roomId = node.createRoom("failing").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    node.sql("ALTER TABLE events RENAME TO events_away");
    List<HttpResponse<Buffer>> failed;
    try {
      failed = Future.all(List.of(
              node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("f-1", "U1", "one")),
              node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("f-2", "U1", "two"))))
          .await().list();
    } finally {
      node.sql("ALTER TABLE events_away RENAME TO events");
    }

    assertThat(failed).allSatisfy(r -> {
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.getHeader("Retry-After")).isEqualTo("1");
    });
    assertThat(node.queryValue("SELECT count(*) FROM inbound_dedupe WHERE bridge_id = $1", bridge.getString("bridge_id")))
        .as("the dedupe claims rolled back with the batch").isEqualTo(0L);
    HttpResponse<Buffer> retried = node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"),
        TestNode.message("f-1", "U1", "one")).await();
    assertThat(retried.statusCode()).isEqualTo(202);
    assertThat(retried.bodyAsJsonObject().getBoolean("duplicate")).isFalse();
  }

  /** An event log of its own on the node's database, used from one Vert.x context as the node uses its own. */
  private static EventLog eventLog(EventLog.Stats stats) {
    Pool pool = PgBuilder.pool().connectingTo(node.pg).using(node.vertx).build();
    Outbox outbox = new Outbox(node.vertx, pool, pool, "test-node", Ownership.singleNode("test-node"));
    return new EventLog(node.vertx, outbox, new Fqids("relay.test"), node.clock, stats,
        new EventLog.Options(Duration.ofMinutes(10), 256, 1, 1000, 1, "bridge"), new EventLog.Writers());
  }

  private static <T> T onContext(Supplier<T> work) {
    Context context = node.vertx.getOrCreateContext();
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> result.complete(work.get()));
    return result.future().await();
  }
}
