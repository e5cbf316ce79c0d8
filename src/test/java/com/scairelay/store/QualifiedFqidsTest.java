package com.scairelay.store;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Migration 15 on a database as migration 14 left it (bare native names, {@code bridge:<bridge>:<external>}
 * shadows): every fqid is qualified, participant and event ids stay, and the node finds the same
 * participants again for the same senders.
 */
class QualifiedFqidsTest {
  static final String SERVER = "migrated.example";

  private static String post(TestNode node, String roomId, String sender) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"),
        new JsonObject().put("sender", sender).put("content", new JsonObject().put("msgtype", "swp.text").put("body", "hi")));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  private static String inbound(TestNode node, JsonObject bridge, String eventId, String externalId) {
    HttpResponse<Buffer> response = node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"),
        TestNode.message(eventId, externalId, "hello")).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("event_id");
  }

  /** Participant id by fqid, of one room. */
  private static Map<String, String> participants(TestNode node, String roomId) {
    Map<String, String> byFqid = new HashMap<>();
    node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/participants"), null).bodyAsJsonObject()
        .getJsonArray("participants").stream().map(JsonObject.class::cast).forEach(p -> byFqid.put(p.getString("fqid"), p.getString("id")));
    return byFqid;
  }

  private static String senderOf(TestNode node, String eventId) {
    return (String) node.queryValue("SELECT sender_id FROM events WHERE id = $1", eventId);
  }

  private static Connection jdbc(PgConnectOptions pg) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase(),
        pg.getUser(), pg.getPassword());
  }

  /** Puts the participants back in the forms of migration 13 and forgets that 15 ran. */
  private static void asMigration13LeftIt(PgConnectOptions pg) throws SQLException {
    try (Connection db = jdbc(pg); Statement sql = db.createStatement()) {
      sql.executeUpdate("UPDATE participants SET fqid = 'bridge:' || bridge_id || ':' || external_id WHERE kind = 'shadow'");
      sql.executeUpdate("UPDATE participants SET fqid = 'alice' WHERE fqid = '@alice:" + SERVER + "'");
      sql.executeUpdate("UPDATE participants SET fqid = 'carol' WHERE fqid = '@carol-before:" + SERVER + "'");
      sql.executeUpdate("DROP TABLE server_identity");
      sql.executeUpdate("DELETE FROM flyway_schema_history WHERE version = '15'");
    }
  }

  @Test
  void storedIdsAreQualifiedAndTheSameSendersFindTheSameParticipants() throws SQLException {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    String roomId;
    JsonObject bridge;
    Map<String, String> before;
    String carolBefore;
    try (TestNode node = TestNode.startOn(pg, Map.of("RELAY_SERVER_NAME", SERVER))) {
      roomId = node.createRoom("old").getString("room_id");
      bridge = node.createBridge(roomId, "inbound");
      post(node, roomId, "alice");
      post(node, roomId, "@bob:other.example");
      post(node, roomId, "@carol:" + SERVER);
      carolBefore = post(node, roomId, "@carol-before:" + SERVER);
      inbound(node, bridge, "m-1", "U12345");
      inbound(node, bridge, "m-2", "29:1a2b");
      before = participants(node, roomId);
    }
    asMigration13LeftIt(pg);
    try (Connection db = jdbc(pg); Statement sql = db.createStatement();
         ResultSet rows = sql.executeQuery("SELECT fqid FROM participants WHERE fqid = 'alice' OR fqid LIKE 'bridge:%'")) {
      int old = 0;
      while (rows.next()) {
        old++;
      }
      assertThat(old).as("alice and two shadows in the old forms").isEqualTo(3);
    }

    // Only 15 is missing, and the later migrations have run: Flyway runs it out of order, as it would have run in order.
    assertThat(Migrations.configure(pg, SERVER).outOfOrder(true).load().migrate().migrationsExecuted).isEqualTo(1);

    String shadows = "@bridge_" + bridge.getString("bridge_id").replace("_", "__");
    try (TestNode node = TestNode.startOn(pg, Map.of("RELAY_SERVER_NAME", ""))) {
      Map<String, String> after = participants(node, roomId);
      assertThat(after).containsOnlyKeys("@alice:" + SERVER, "@bob:other.example", "@carol:" + SERVER,
          shadows + "._u12345:" + SERVER, shadows + ".29=3a1a2b:" + SERVER);
      assertThat(after.get("@alice:" + SERVER)).isEqualTo(before.get("@alice:" + SERVER));
      assertThat(after.get("@bob:other.example")).isEqualTo(before.get("@bob:other.example"));
      assertThat(after.get(shadows + "._u12345:" + SERVER)).isEqualTo(before.get(shadows + "._u12345:" + SERVER));
      assertThat(after.get("@carol:" + SERVER)).isEqualTo(before.get("@carol:" + SERVER));
      assertThat(senderOf(node, carolBefore)).as("the bare carol's event moved to @carol").isEqualTo(before.get("@carol:" + SERVER));
      assertThat(node.queryValue("SELECT name FROM server_identity")).isEqualTo(SERVER);

      assertThat(senderOf(node, post(node, roomId, "alice"))).isEqualTo(before.get("@alice:" + SERVER));
      assertThat(senderOf(node, inbound(node, bridge, "m-3", "U12345"))).isEqualTo(before.get(shadows + "._u12345:" + SERVER));
      assertThat(senderOf(node, inbound(node, bridge, "m-4", "29:1a2b"))).isEqualTo(before.get(shadows + ".29=3a1a2b:" + SERVER));
      assertThat(participants(node, roomId)).hasSize(5);
    }
  }

  @Test
  void aDatabaseWithoutParticipantsRecordsNoServerName() throws SQLException {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    try (Connection db = jdbc(pg); Statement sql = db.createStatement(); ResultSet rows = sql.executeQuery("SELECT count(*) FROM server_identity")) {
      rows.next();
      assertThat(rows.getLong(1)).as("the first node to start names it").isZero();
    }
  }
}
