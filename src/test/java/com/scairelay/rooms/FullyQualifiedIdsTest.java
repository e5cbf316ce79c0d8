package com.scairelay.rooms;

import com.scairelay.config.ConfigException;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Every participant has a fully qualified id of {@code server.name}, the same in the API, on the room
 * stream and in the outbound payload: natives {@code @alice:<server>}, shadows
 * {@code @bridge_<bridge>.<external id>:<server>}; and the server name stays with the database.
 */
class FullyQualifiedIdsTest {
  static final String SERVER = "chat.example.test";
  static TestNode node;
  static TestSink sink;
  static WebSocketClient ws;
  static final AtomicInteger paths = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_SERVER_NAME", SERVER, "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50"));
    sink = TestSink.start(node.vertx);
    ws = node.vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    ws.close().await();
    sink.close();
    node.close();
  }

  /** A room with an inbound bridge into it and an outbound bridge out of it to the sink at {@code path}. */
  private record Room(String id, String inboundId, String inboundSecret, String path) {
  }

  private static Room room() {
    String roomId = node.createRoom("fqids").getString("room_id");
    JsonObject inbound = node.createBridge(roomId, "inbound");
    String path = "/out-" + paths.incrementAndGet();
    HttpResponse<Buffer> out = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject().put("transport", "custom")
        .put("direction", "outbound").put("room_id", roomId).put("name", "out").put("outbound_webhook", sink.url(path)));
    assertThat(out.statusCode()).as(out.bodyAsString()).isEqualTo(201);
    return new Room(roomId, inbound.getString("bridge_id"), inbound.getString("shared_secret"), path);
  }

  private static HttpResponse<Buffer> postNative(TestNode on, String roomId, String sender) {
    return on.send(on.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), new JsonObject().put("sender", sender)
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "from " + sender)));
  }

  private static String nativeEvent(TestNode on, String roomId, String sender) {
    HttpResponse<Buffer> response = postNative(on, roomId, sender);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  private static String inboundEvent(Room room, String eventId, String externalId) {
    HttpResponse<Buffer> response = node.postInbound(room.inboundId(), room.inboundSecret(), TestNode.message(eventId, externalId, "hi")).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("event_id");
  }

  /** Sender of each event of the room, by event id, as {@code GET …/events} answers. */
  private static Map<String, JsonObject> senders(TestNode on, String roomId) {
    HttpResponse<Buffer> page = on.send(on.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events"), null);
    Map<String, JsonObject> senders = new java.util.HashMap<>();
    page.bodyAsJsonObject().getJsonArray("events").stream().map(JsonObject.class::cast)
        .forEach(e -> senders.put(e.getString("event_id"), e.getJsonObject("sender")));
    return senders;
  }

  private static List<String> participantFqids(TestNode on, String roomId) {
    return on.send(on.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/participants"), null).bodyAsJsonObject()
        .getJsonArray("participants").stream().map(JsonObject.class::cast).map(p -> p.getString("fqid")).toList();
  }

  /** What the outbound bridge was sent as the sender of {@code eventId}. */
  private static String outboundFqid(Room room, String eventId) {
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered(room.path()).contains(eventId));
    return sink.received(room.path()).stream().map(TestSink.Received::json).filter(p -> eventId.equals(p.getString("event_id")))
        .findFirst().orElseThrow().getJsonObject("sender").getString("fqid");
  }

  private static List<JsonObject> stream(String roomId) {
    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    WebSocket socket = ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port())
        .setURI("/v1/rooms/" + roomId + "/stream").addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
    socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
    return frames;
  }

  private static String streamedFqid(List<JsonObject> frames, String eventId) {
    await().atMost(10, TimeUnit.SECONDS).until(() -> frames.stream().anyMatch(f -> eventId.equals(f.getString("event_id"))));
    return frames.stream().filter(f -> eventId.equals(f.getString("event_id"))).findFirst().orElseThrow()
        .getJsonObject("sender").getString("fqid");
  }

  @Test
  void aBareNativeNameIsQualifiedWithTheServerNameInTheApiTheStreamAndTheOutboundPayload() {
    Room room = room();
    List<JsonObject> frames = stream(room.id());

    String eventId = nativeEvent(node, room.id(), "alice");

    String expected = "@alice:" + SERVER;
    assertThat(senders(node, room.id()).get(eventId).getString("fqid")).isEqualTo(expected);
    assertThat(participantFqids(node, room.id())).containsExactly(expected);
    assertThat(streamedFqid(frames, eventId)).isEqualTo(expected);
    assertThat(outboundFqid(room, eventId)).isEqualTo(expected);
  }

  @Test
  void aFullIdIsKeptAndNamesTheSameParticipantAsTheBareNameOfThisServer() {
    Room room = room();
    String bare = nativeEvent(node, room.id(), "alice");
    String full = nativeEvent(node, room.id(), "@alice:" + SERVER);
    String foreign = nativeEvent(node, room.id(), "@alice:other.example");

    Map<String, JsonObject> senders = senders(node, room.id());
    assertThat(senders.get(full).getString("id")).isEqualTo(senders.get(bare).getString("id"));
    assertThat(senders.get(foreign).getString("fqid")).isEqualTo("@alice:other.example");
    assertThat(participantFqids(node, room.id())).containsExactlyInAnyOrder("@alice:" + SERVER, "@alice:other.example");
    assertThat(outboundFqid(room, foreign)).isEqualTo("@alice:other.example");
  }

  @Test
  void aShadowIsNamedForItsBridgeAndExternalIdInTheApiTheStreamAndTheOutboundPayload() {
    Room room = room();
    List<JsonObject> frames = stream(room.id());
    String bridge = "@bridge_" + room.inboundId().replace("_", "__");

    String plain = inboundEvent(room, "m-1", "U12345");
    String odd = inboundEvent(room, "m-2", "29:Ünï");
    String again = inboundEvent(room, "m-3", "U12345");

    Map<String, JsonObject> senders = senders(node, room.id());
    assertThat(senders.get(plain).getString("fqid")).isEqualTo(bridge + "._u12345:" + SERVER);
    assertThat(senders.get(odd).getString("fqid")).isEqualTo(bridge + ".29=3a=c3=9cn=c3=af:" + SERVER);
    assertThat(senders.get(again).getString("id")).isEqualTo(senders.get(plain).getString("id"));
    assertThat(participantFqids(node, room.id())).containsExactlyInAnyOrder(bridge + "._u12345:" + SERVER, bridge + ".29=3a=c3=9cn=c3=af:" + SERVER);
    assertThat(streamedFqid(frames, odd)).isEqualTo(bridge + ".29=3a=c3=9cn=c3=af:" + SERVER);
    assertThat(outboundFqid(room, plain)).isEqualTo(bridge + "._u12345:" + SERVER);
    assertThat(outboundFqid(room, odd)).isEqualTo(bridge + ".29=3a=c3=9cn=c3=af:" + SERVER);
  }

  @Test
  void nativeSendersThatCouldPassForAShadowOrAreNoIdAreRefused() {
    Room room = room();
    String shadow = "@bridge_" + room.inboundId().replace("_", "__") + "._u12345:" + SERVER;
    for (String sender : new String[] {shadow, "bridge_" + room.inboundId() + "_U12345", "bridge:" + room.inboundId() + ":U12345", "alice:x",
        "@alice", "@:" + SERVER}) {
      HttpResponse<Buffer> refused = postNative(node, room.id(), sender);
      assertThat(refused.statusCode()).as(sender).isEqualTo(400);
      assertThat(refused.bodyAsJsonObject().getString("detail")).as(sender).startsWith("field 'sender'");
    }
    assertThat(participantFqids(node, room.id())).isEmpty();
    assertThat(postNative(node, room.id(), "@bridge_x:other.example").statusCode()).as("another server's names are its own").isEqualTo(201);
  }

  @Test
  void withoutServerNameTheHostNameIsUsed() throws Exception {
    String host = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
    String expected = host.matches("[a-z0-9][a-z0-9.-]*") ? host : "localhost";
    try (TestNode unnamed = TestNode.start(Map.of("RELAY_SERVER_NAME", ""))) {
      String roomId = unnamed.createRoom("host").getString("room_id");
      String eventId = nativeEvent(unnamed, roomId, "alice");
      assertThat(senders(unnamed, roomId).get(eventId).getString("fqid")).isEqualTo("@alice:" + expected);
    }
  }

  @Test
  void theServerNameStaysWithTheDatabase() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    String roomId;
    try (TestNode first = TestNode.startOn(pg, Map.of("RELAY_SERVER_NAME", "first.example"))) {
      roomId = first.createRoom("kept").getString("room_id");
      nativeEvent(first, roomId, "alice");
    }

    assertThatThrownBy(() -> TestNode.startOn(pg, Map.of("RELAY_SERVER_NAME", "second.example")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("server.name (env RELAY_SERVER_NAME) is 'second.example'")
        .hasMessageContaining("set RELAY_SERVER_NAME=first.example");

    try (TestNode unnamed = TestNode.startOn(pg, Map.of("RELAY_SERVER_NAME", ""))) {
      String eventId = nativeEvent(unnamed, roomId, "bob");
      assertThat(senders(unnamed, roomId).get(eventId).getString("fqid")).isEqualTo("@bob:first.example");
      assertThat(participantFqids(unnamed, roomId)).containsExactlyInAnyOrder("@alice:first.example", "@bob:first.example");
    }
  }
}
