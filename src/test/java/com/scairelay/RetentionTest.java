package com.scairelay;

import com.scairelay.store.Purge;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The retention purge (README, "Retention"), driven by the node's clock: what is old goes, in batches
 * of two rows here; what is recent, and what a delivery still waits for, stays.
 */
class RetentionTest {
  static final Map<String, String> ENV = Map.of("RELAY_RETENTION_EVENTS_DAYS", "30", "RELAY_RETENTION_AUDIT_DAYS", "90",
      "RELAY_RETENTION_BATCH_SIZE", "2", "RELAY_RETENTION_BATCH_PAUSE_MS", "1", "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50");

  TestNode node;
  TestSink sink;

  TestNode start(Map<String, String> env) {
    node = TestNode.start(env);
    sink = TestSink.start(node.vertx);
    return node;
  }

  @AfterEach
  void stop() {
    sink.close();
    node.close();
  }

  @Test
  void oldRoomEventsGoButRecentOnesAndThoseAPausedBridgeStillWaitsForStay() {
    start(ENV);
    String relayedRoom = room("relayed");
    String relayed = outboundBridge(relayedRoom, "/relayed");
    String quietRoom = room("inbound only");
    node.createBridge(quietRoom, "inbound");
    String heldRoom = room("held");
    String held = outboundBridge(heldRoom, "/held");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + held + "/pause"), null);
    List<String> oldRelayed = post(relayedRoom, 5);
    post(quietRoom, 3);
    List<String> waiting = post(heldRoom, 2);
    awaitDelivered(relayed, 5);
    node.sql("INSERT INTO bridge_messages (bridge_id, foreign_id, event_id, created_at) VALUES ($1, 'm-old', $2, now())", relayed, oldRelayed.get(0));

    node.clock.advance(Duration.ofDays(31));
    List<String> recent = post(relayedRoom, 2);
    awaitDelivered(relayed, 7);
    node.sql("INSERT INTO bridge_messages (bridge_id, foreign_id, event_id, created_at) VALUES ($1, 'm-new', $2, now())", relayed, recent.get(0));

    Purge.Summary summary = node.node.purge().await();

    assertThat(summary.ran()).isTrue();
    assertThat(events(relayedRoom)).containsExactlyElementsOf(recent);
    assertThat(events(quietRoom)).isEmpty();
    assertThat(events(heldRoom)).as("a paused bridge's queue still needs them").containsExactlyElementsOf(waiting);
    assertThat(summary.purged("room events")).isEqualTo(8);
    assertThat(summary.kept("room events")).isEqualTo(2);
    assertThat(column("SELECT foreign_id FROM bridge_messages ORDER BY foreign_id")).containsExactly("m-new");
    assertThat(summary.purged("finished deliveries")).as("delivered 31 days ago, kept 7").isEqualTo(5);
    assertThat(node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = 'pending'", held)).isEqualTo(2L);

    node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + held + "/resume"), null);
    awaitDelivered(held, 2);
    assertThat(sink.delivered("/held")).containsExactlyElementsOf(waiting);
    node.node.purge().await();
    assertThat(events(heldRoom)).as("delivered now, old enough to go").isEmpty();
  }

  @Test
  void oldAuditEventsGoButThoseAPausedWebhookStillWaitsForStay() {
    start(ENV);
    String webhook = created("/v1/admin/webhooks", new JsonObject().put("name", "pager").put("url", sink.url("/pager"))
        .put("events", new JsonArray().add("SECURITY"))).getString("webhook_id");
    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhook + "/pause"), null);
    List<String> unsubscribed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      unsubscribed.add(publish("FILE_ACCESS"));
    }
    String waited = publish("SECURITY");
    long before = (Long) node.queryValue("SELECT count(*) FROM audit_events");

    node.clock.advance(Duration.ofDays(91));
    String recent = publish("FILE_ACCESS");
    Purge.Summary summary = node.node.purge().await();

    assertThat(column("SELECT event_id FROM audit_events ORDER BY seq")).containsExactly(waited, recent);
    assertThat(summary.purged("audit events")).as("the admin changes too").isEqualTo(before - 1);
    assertThat(summary.kept("audit events")).isEqualTo(1);
    assertThat(unsubscribed).allSatisfy(id -> assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE event_id = $1", id)).isEqualTo(0L));

    node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhook + "/resume"), null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered("/pager").contains(waited));
  }

  @Test
  void withoutRetentionSettingsEventsAndAuditEventsAreKeptForever() {
    start(Map.of("RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50"));
    String roomId = room("kept");
    String bridge = outboundBridge(roomId, "/kept");
    List<String> posted = post(roomId, 3);
    awaitDelivered(bridge, 3);
    long audit = (Long) node.queryValue("SELECT count(*) FROM audit_events");

    node.clock.advance(Duration.ofDays(3650));
    Purge.Summary summary = node.node.purge().await();

    assertThat(events(roomId)).containsExactlyElementsOf(posted);
    assertThat(node.queryValue("SELECT count(*) FROM audit_events")).isEqualTo(audit);
    assertThat(summary.purged().keySet()).containsExactly("inbound dedupe rows", "finished deliveries", "authorization codes", "revoked tokens");
    assertThat(summary.purged("finished deliveries")).isEqualTo(3);
  }

  @Test
  void whileAnotherNodePurgesThisOneSkipsItsPass() {
    start(ENV);
    String roomId = room("r");
    post(roomId, 3);
    node.clock.advance(Duration.ofDays(31));
    SqlConnection other = PgConnection.connect(node.vertx, node.pg).await();
    try {
      other.query("SELECT pg_advisory_lock(hashtext('scairelay.retention'))").execute().await();

      assertThat(node.node.purge().await().ran()).isFalse();
      assertThat(events(roomId)).hasSize(3);

      other.query("SELECT pg_advisory_unlock(hashtext('scairelay.retention'))").execute().await();
      assertThat(node.node.purge().await().ran()).isTrue();
      assertThat(events(roomId)).isEmpty();
    } finally {
      other.close().await();
    }
  }

  private String room(String name) {
    return node.createRoom(name).getString("room_id");
  }

  private String outboundBridge(String roomId, String path) {
    return created("/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId)
        .put("name", path).put("outbound_webhook", sink.url(path))).getString("bridge_id");
  }

  private JsonObject created(String path, JsonObject body) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, path), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private List<String> post(String roomId, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(created("/v1/rooms/" + roomId + "/events", new JsonObject().put("sender", "@agent:example.org")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "m" + i))).getString("event_id"));
    }
    return ids;
  }

  private String publish(String category) {
    return created("/v1/events", new JsonObject().put("category", category).put("action", "file.read").put("user_id", "u1"))
        .getString("event_id");
  }

  private void awaitDelivered(String bridgeId, long count) {
    await().atMost(10, TimeUnit.SECONDS).until(() ->
        node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = 'delivered'", bridgeId).equals(count));
  }

  private List<String> events(String roomId) {
    return column("SELECT id FROM events WHERE room_id = '" + roomId + "' ORDER BY seq");
  }

  private List<String> column(String sql) {
    List<String> values = new ArrayList<>();
    node.sql(sql).forEach(row -> values.add(row.getString(0)));
    return values;
  }
}
