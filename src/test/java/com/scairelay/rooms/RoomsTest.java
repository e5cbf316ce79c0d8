package com.scairelay.rooms;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Rooms: native events, paging, participants and the live WebSocket stream. */
class RoomsTest {
  static TestNode node;
  static WebSocketClient ws;

  @BeforeAll
  static void start() {
    node = TestNode.start();
    ws = node.vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    ws.close().await();
    node.close();
  }

  private HttpResponse<Buffer> postNative(String roomId, JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), body);
  }

  private static JsonObject text(String sender, String body) {
    return new JsonObject().put("sender", sender).put("display_name", "Nat")
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", body));
  }

  private JsonObject events(String roomId, String query) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events" + query), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private WebSocketConnectOptions stream(String roomId) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port()).setURI("/v1/rooms/" + roomId + "/stream");
  }

  @Test
  void nativeEventsArePagedOldestFirstWithAnAfterCursor() {
    String roomId = node.createRoom("paging").getString("room_id");
    for (int i = 0; i < 5; i++) {
      assertThat(postNative(roomId, text("@nat:example.org", "m" + i)).statusCode()).isEqualTo(201);
    }

    JsonObject first = events(roomId, "?limit=2");
    JsonObject second = events(roomId, "?limit=2&after=" + first.getString("next_after"));
    JsonObject rest = events(roomId, "?after=" + second.getString("next_after"));
    JsonObject end = events(roomId, "?after=" + rest.getString("next_after"));

    assertThat(bodies(first)).containsExactly("m0", "m1");
    assertThat(bodies(second)).containsExactly("m2", "m3");
    assertThat(bodies(rest)).containsExactly("m4");
    assertThat(bodies(end)).isEmpty();
    assertThat(end.getString("next_after")).isEqualTo(rest.getString("next_after"));
    JsonObject sender = first.getJsonArray("events").getJsonObject(0).getJsonObject("sender");
    assertThat(sender.getString("fqid")).isEqualTo("@nat:example.org");
    assertThat(sender.getString("display_name")).isEqualTo("Nat");
  }

  private static List<String> bodies(JsonObject page) {
    return page.getJsonArray("events").stream().map(JsonObject.class::cast)
        .map(e -> e.getJsonObject("content").getString("body")).toList();
  }

  @Test
  void badRequestsAreExplained() {
    String roomId = node.createRoom("errors").getString("room_id");
    assertThat(postNative("room_missing", text("@a:b", "x")).statusCode()).isEqualTo(404);
    assertThat(postNative(roomId, text("bridge:brg_x:U1", "x")).bodyAsJsonObject().getString("detail")).contains("'sender'");
    assertThat(postNative(roomId, new JsonObject().put("sender", "@a:b")).bodyAsJsonObject().getString("detail")).contains("'content'");
    assertThat(node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events?after=ev_nope"), null).statusCode()).isEqualTo(400);
    assertThat(node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/events?limit=0"), null).statusCode()).isEqualTo(400);
    assertThat(node.send(node.admin(HttpMethod.GET, "/v1/rooms/room_missing/participants"), null).statusCode()).isEqualTo(404);
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/rooms"), new JsonObject()).statusCode()).isEqualTo(400);
  }

  @Test
  void participantsListNativeAndShadowMembers() {
    String roomId = node.createRoom("members").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    postNative(roomId, text("@nat:example.org", "hi"));
    node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), TestNode.message("p-1", "U9", "hey")).await();

    JsonArray participants = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/participants"), null)
        .bodyAsJsonObject().getJsonArray("participants");

    assertThat(participants.stream().map(JsonObject.class::cast).map(p -> p.getString("kind") + ":" + p.getString("fqid")))
        .containsExactlyInAnyOrder("native:@nat:example.org", "shadow:@bridge_" + bridge.getString("bridge_id").replace("_", "__") + "._u9:relay.test");
  }

  @Test
  void streamSendsEveryNewEventOfTheRoomAsOneJsonFrame() {
    String roomId = node.createRoom("live").getString("room_id");
    String otherRoom = node.createRoom("elsewhere").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    WebSocket socket = ws.connect(stream(roomId).addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
    socket.textMessageHandler(text -> frames.add(new JsonObject(text)));

    String nativeId = postNative(roomId, text("@nat:example.org", "native")).bodyAsJsonObject().getString("event_id");
    postNative(otherRoom, text("@nat:example.org", "not here"));
    String inboundId = node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"),
        TestNode.message("w-1", "U1", "inbound")).await().bodyAsJsonObject().getString("event_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> frames.size() >= 2);
    assertThat(frames).extracting(f -> f.getString("event_id")).containsExactly(nativeId, inboundId);
    assertThat(frames.get(1).getString("origin_bridge_id")).isEqualTo(bridge.getString("bridge_id"));
    assertThat(frames.get(1).getJsonObject("content").getString("body")).isEqualTo("inbound");
    socket.close().await();
  }

  @Test
  void aStreamClientThatDoesNotReadIsClosedWith1013AndOneLogLine() {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(RoomStream.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    String roomId = node.createRoom("slow reader").getString("room_id");
    WebSocket socket = ws.connect(stream(roomId).addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
    List<String> frames = new CopyOnWriteArrayList<>();
    socket.textMessageHandler(frames::add);
    socket.pause();
    String big = "x".repeat(60_000);
    int posted = 300;
    for (int i = 0; i < posted; i++) {
      assertThat(postNative(roomId, text("@nat:example.org", big + i)).statusCode()).isEqualTo(201);
    }
    socket.resume();
    await().atMost(20, TimeUnit.SECONDS).until(socket::isClosed);
    assertThat(socket.closeStatusCode()).isEqualTo((short) 1013);
    assertThat(frames.size()).as("it was cut off, not fed everything").isLessThan(posted);
    logger.detachAppender(logged);
    assertThat(logged.list).filteredOn(e -> e.getFormattedMessage().contains("slow stream client")).hasSize(1);
  }

  @Test
  void streamNeedsABearerTokenAndAnExistingRoom() {
    String roomId = node.createRoom("guarded").getString("room_id");
    assertThatThrownBy(() -> ws.connect(stream(roomId)).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
    assertThatThrownBy(() -> ws.connect(stream(roomId).addHeader("Authorization", "Bearer wrong-token-123456")).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
    assertThatThrownBy(() -> ws.connect(stream("room_missing").addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(404));
  }

  /** What a browser offers: {@code new WebSocket(url, ["scairelay.v1", "bearer." + base64url(utf8(token))])}. */
  private WebSocketConnectOptions browserStream(String roomId, String bearerEntry) {
    return stream(roomId).setSubProtocols(List.of(RoomRoutes.STREAM_PROTOCOL, bearerEntry));
  }

  private static String bearer(String token) {
    return "bearer." + Base64.getUrlEncoder().withoutPadding().encodeToString(token.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aBrowserStreamAuthenticatesWithTheBearerSubprotocolAndTheServerSelectsScairelayV1() {
    String roomId = node.createRoom("browser").getString("room_id");
    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    WebSocket socket = ws.connect(browserStream(roomId, bearer(TestNode.ADMIN_TOKEN))).await();
    socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
    assertThat(socket.subProtocol()).as("the protocol the server chose; never the bearer entry").isEqualTo("scairelay.v1");

    String eventId = postNative(roomId, text("@nat:example.org", "to the browser")).bodyAsJsonObject().getString("event_id");

    await().atMost(10, TimeUnit.SECONDS).until(() -> !frames.isEmpty());
    assertThat(frames).extracting(f -> f.getString("event_id")).containsExactly(eventId);
    socket.close().await();
  }

  @Test
  void aClientWithAnAuthorizationHeaderAndNoSubprotocolGetsNoneAsBefore() {
    String roomId = node.createRoom("plain").getString("room_id");
    WebSocket socket = ws.connect(stream(roomId).addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
    assertThat(socket.subProtocol()).isNull();
    socket.close().await();
  }

  @Test
  void aWrongOrMalformedBearerSubprotocolIsRefusedWith401BeforeTheUpgrade() {
    String roomId = node.createRoom("guarded browser").getString("room_id");
    assertThatThrownBy(() -> ws.connect(browserStream(roomId, bearer("wrong-token-123456"))).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
    for (String malformed : new String[] {"bearer.", "bearer.***", "bearer." + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe})}) {
      assertThatThrownBy(() -> ws.connect(browserStream(roomId, malformed)).await()).as(malformed)
          .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> {
            assertThat(e.getStatus()).isEqualTo(401);
            assertThat(new JsonObject(e.getBody()).getString("detail")).contains("base64url");
          });
    }
    assertThatThrownBy(() -> ws.connect(stream(roomId).setSubProtocols(List.of(RoomRoutes.STREAM_PROTOCOL,
            bearer(TestNode.ADMIN_TOKEN), bearer("another-token-123456")))).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
    assertThatThrownBy(() -> ws.connect(stream(roomId).setSubProtocols(List.of(RoomRoutes.STREAM_PROTOCOL))).await())
        .as("offering the protocol alone is no credential")
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
  }

  @Test
  void anAuthorizationHeaderWinsOverABearerSubprotocol() {
    String roomId = node.createRoom("both").getString("room_id");
    assertThatThrownBy(() -> ws.connect(browserStream(roomId, bearer(TestNode.ADMIN_TOKEN))
            .addHeader("Authorization", "Bearer wrong-token-123456")).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
  }
}
