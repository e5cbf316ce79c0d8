package com.scairelay;

import com.scairelay.support.LogCapture;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A full run of a node, with every logger of ours at TRACE and the others at their level, keeps no
 * secret, token or signature in any line: admin token, bridge and webhook secrets (also rotated ones),
 * custom header values, client secrets (also wrong ones), access tokens, API keys, signatures sent and
 * received, query strings, a room stream's bearer subprotocol entry, the master key and the PostgreSQL password. The lines the node must log
 * (requests, admin changes, failed deliveries, breaker changes) are there.
 */
class NoSecretInLogsTest {

  @Test
  void aFullRunLogsNoSecretTokenOrSignatureAtAnyLevel() {
    Set<String> secrets = new LinkedHashSet<>();
    Vertx sinkVertx = Vertx.vertx();
    TestSink sink = TestSink.start(sinkVertx);
    // Endpoints that echo what they were sent (headers with the signature) in their error answers.
    sink.answer("/refuse", r -> TestSink.Answer.json(400, echo(r)));
    sink.answer("/down", r -> TestSink.Answer.json(503, echo(r)));
    String text;
    try (LogCapture log = LogCapture.open()) {
      TestNode node = TestNode.start(Map.of("RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "1"));
      try {
        secrets.add(TestNode.ADMIN_TOKEN);
        secrets.add(Base64.getEncoder().encodeToString(TestNode.MASTER_KEY));
        secrets.add(node.pg.getPassword());
        scenario(node, sink, secrets);
      } finally {
        node.close();
      }
      text = log.text();
    } finally {
      sink.close();
      sinkVertx.close().await();
    }

    assertThat(secrets).allSatisfy(secret -> assertThat(secret).hasSizeGreaterThanOrEqualTo(16));
    for (String secret : secrets) {
      assertThat(text).as("the log holds the secret %s", secret).doesNotContain(secret);
    }
    assertThat(text).as("what the node must log is there")
        .contains("RequestLog - POST /v1/bridges/:id/inbound 202 ")
        .contains("RequestLog - POST /v1/bridges/:id/inbound 401 ")
        .contains("RequestLog - GET /v1/admin/bridges 200 ")
        .contains("RequestLog - POST /oauth/token 401 ")
        .contains("RequestLog - GET /v1/rooms/:id/stream 101 ").contains("RequestLog - GET /v1/rooms/:id/stream 401 ")
        .contains("admin change: bridge.created ").contains("admin change: bridge.secret_rotated ")
        .contains("admin change: webhook.secret_rotated ").contains("admin change: application.secret_rotated ")
        .containsPattern("delivery \\d+ of event ev_\\w+ to bridge brg_\\w+ failed for good after 1 attempts: last answer HTTP 400 \\(permanent answer\\)")
        .containsPattern("bridge brg_\\w+: circuit breaker open after 1 transient failures in a row")
        .contains("circuit breaker");
  }

  private static void scenario(TestNode node, TestSink sink, Set<String> secrets) {
    String roomId = node.createRoom("leaks").getString("room_id");
    String query = "qs" + hex(16);
    secrets.add(query);
    JsonObject bridge = created(node, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "both")
        .put("room_id", roomId).put("name", "both ways").put("outbound_webhook", sink.url("/out") + "?token=" + query));
    String bridgeId = bridge.getString("bridge_id");
    String secret = bridge.getString("shared_secret");
    secrets.add(secret);
    created(node, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", roomId).put("name", "refused").put("outbound_webhook", sink.url("/refuse")));
    created(node, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", roomId).put("name", "down").put("outbound_webhook", sink.url("/down")));

    String headerToken = "hdr" + hex(16);
    String webhookSecret = "whs" + hex(16);
    secrets.add(headerToken);
    secrets.add(webhookSecret);
    String webhookId = created(node, "/v1/admin/webhooks", new JsonObject().put("name", "siem").put("url", sink.url("/wh"))
        .put("events", new JsonArray().add("ADMIN").add("SECURITY").add("AUTHENTICATION")).put("secret", webhookSecret)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + headerToken))).getString("webhook_id");
    secrets.add(ok(node.send(node.admin(HttpMethod.POST, "/v1/admin/webhooks/" + webhookId + "/rotate-secret"), null)).getString("secret"));

    assertThat(signedInbound(node, bridgeId, secret, "m-1", secrets).statusCode()).isEqualTo(202);
    String bad = hex(32);
    secrets.add(bad);
    Buffer raw = TestNode.message("m-2", "U1", "forged").toBuffer();
    assertThat(node.postInboundRaw(bridgeId, raw, "t=" + node.clock.instant().getEpochSecond() + ",v1=" + bad).await().statusCode()).isEqualTo(401);
    String rotated = ok(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + bridgeId + "/rotate-secret"), null)).getString("shared_secret");
    secrets.add(rotated);
    assertThat(signedInbound(node, bridgeId, rotated, "m-3", secrets).statusCode()).isEqualTo(202);
    assertThat(signedInbound(node, bridgeId, secret, "m-4", secrets).statusCode()).as("the old secret within its grace").isEqualTo(202);
    String adminQuery = "aq" + hex(16);
    secrets.add(adminQuery);
    ok(node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges?access_token=" + adminQuery), null));

    JsonObject app = created(node, "/v1/admin/applications", new JsonObject().put("name", "crm").put("description", "the CRM")
        .put("redirect_uris", new JsonArray().add("https://crm.example.org/cb")).put("scopes", new JsonArray().add("rooms:read"))
        .put("token_lifetime", 600));
    String clientId = app.getString("client_id");
    secrets.add(app.getString("client_secret"));
    String wrong = "cs_wrong" + hex(16);
    secrets.add(wrong);
    assertThat(token(node, clientId, wrong, true).statusCode()).isEqualTo(401);
    String accessToken = ok(token(node, clientId, app.getString("client_secret"), true)).getString("access_token");
    secrets.add(accessToken);
    secrets.add(accessToken.substring(accessToken.lastIndexOf('.') + 1));
    ok(node.send(node.request(HttpMethod.GET, "/v1/rooms/" + roomId).putHeader("Authorization", "Bearer " + accessToken), null));
    String rotatedClientSecret = ok(node.send(node.admin(HttpMethod.POST, "/v1/admin/applications/" + clientId + "/rotate-secret"), null))
        .getString("client_secret");
    secrets.add(rotatedClientSecret);
    String formToken = ok(token(node, clientId, rotatedClientSecret, false)).getString("access_token");
    secrets.add(formToken);
    String apiKey = created(node, "/v1/admin/api-keys", new JsonObject().put("name", "script").put("scopes", new JsonArray().add("rooms:read")))
        .getString("api_key");
    secrets.add(apiKey);
    ok(node.send(node.request(HttpMethod.GET, "/v1/rooms/" + roomId).putHeader("Authorization", "Bearer " + apiKey), null));

    // A browser's room stream: the API key as the subprotocol entry bearer.<base64url>, and a wrong one.
    String streamEntry = base64url(apiKey);
    secrets.add(streamEntry);
    String wrongKey = "sak_wrong" + hex(16);
    secrets.add(wrongKey);
    secrets.add(base64url(wrongKey));
    WebSocketClient streams = node.vertx.createWebSocketClient();
    assertThatThrownBy(() -> streams.connect(stream(node, roomId, base64url(wrongKey))).await())
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(401));
    WebSocket socket = streams.connect(stream(node, roomId, streamEntry)).await();
    List<String> frames = new CopyOnWriteArrayList<>();
    socket.textMessageHandler(frames::add);

    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> posted = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), new JsonObject()
          .put("sender", "agent-7").put("display_name", "Bob").put("content", new JsonObject().put("msgtype", "swp.text").put("body", "n" + i)));
      assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(201);
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> frames.size() >= 3);
    socket.close().await();
    streams.close().await();
    await().atMost(30, TimeUnit.SECONDS).until(() -> sink.received("/out").size() >= 3 && !sink.received("/refuse").isEmpty()
        && !sink.received("/down").isEmpty() && sink.received("/wh").size() >= 3);
    node.awaitDeliveriesQuiet();
    for (String path : new String[] {"/out", "/refuse", "/down"}) {
      sink.received(path).forEach(r -> secrets.add(signature(r.headers().get(SignatureScheme.HEADER))));
    }
    sink.received("/wh").forEach(r -> secrets.add(r.headers().get("X-ScaiDrive-Signature")));
  }

  /** A signed inbound post; the signature it carries joins the secrets. */
  private static HttpResponse<Buffer> signedInbound(TestNode node, String bridgeId, String secret, String eventId, Set<String> secrets) {
    Buffer raw = TestNode.message(eventId, "U1", "hello " + eventId).toBuffer();
    String header = SignatureScheme.header(secret, node.clock.instant().getEpochSecond(), raw);
    secrets.add(signature(header));
    return node.postInboundRaw(bridgeId, raw, header).await();
  }

  /** The hex of the first {@code v1=} of a signature header. */
  private static String signature(String header) {
    assertThat(header).contains("v1=");
    String v1 = header.substring(header.indexOf("v1=") + 3);
    return v1.contains(",") ? v1.substring(0, v1.indexOf(',')) : v1;
  }

  private static WebSocketConnectOptions stream(TestNode node, String roomId, String encodedToken) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port()).setURI("/v1/rooms/" + roomId + "/stream")
        .setSubProtocols(List.of("scairelay.v1", "bearer." + encodedToken));
  }

  private static String base64url(String token) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(token.getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<Buffer> token(TestNode node, String clientId, String secret, boolean basic) {
    var request = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded");
    String form = "grant_type=client_credentials";
    if (basic) {
      request.putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)));
    } else {
      form += "&client_id=" + clientId + "&client_secret=" + secret;
    }
    return request.sendBuffer(Buffer.buffer(form)).await();
  }

  private static JsonObject created(TestNode node, String path, JsonObject body) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, path), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private static JsonObject ok(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static String echo(TestSink.Received request) {
    JsonObject headers = new JsonObject();
    request.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    return new JsonObject().put("you_sent", headers).put("body", request.body()).encode();
  }

  private static String hex(int bytes) {
    byte[] random = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }
}
