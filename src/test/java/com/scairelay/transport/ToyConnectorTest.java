package com.scairelay.transport;

import com.scairelay.http.ProblemException;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The README's "adding a transport" walk-through as a test: a connector written entirely here, outside
 * the core, registered into a running node's {@link Connectors}, validates its own bridge settings and
 * receives a delivery on a loopback endpoint. Nothing but the {@code transport} package is touched.
 */
class ToyConnectorTest {
  static final String PATH = "/toy";
  static TestNode node;
  static TestSink sink;

  /** A toy platform: its own body shape, its own token header, its own message id in the answer. */
  static final class ToyConnector implements Connector {
    @Override
    public String name() {
      return "toy";
    }

    @Override
    public boolean servesBridges() {
      return true;
    }

    @Override
    public JsonObject bridgeConfig(JsonObject request, boolean sendsOutbound) {
      if (!(request.getValue("toy_url") instanceof String url) || url.isBlank()) {
        throw ProblemException.badRequest("field 'toy_url' is required");
      }
      return new JsonObject().put("toy_url", url);
    }

    @Override
    public TransportRequest render(Delivery d) {
      String body = new JsonObject()
          .put("text", d.payload().getJsonObject("content").getString("body"))
          .put("from", d.payload().getJsonObject("sender").getString("display_name"))
          .encode();
      String token = HexFormat.of().formatHex(Hmac.sha256(d.secret(), body.getBytes(StandardCharsets.UTF_8)));
      return new TransportRequest(d.id(), d.config().getString("toy_url"), new JsonObject().put("X-Toy-Token", token), body);
    }

    @Override
    public TransportResult classify(HttpAnswer a) {
      String id = null;
      try {
        id = a.body() == null ? null : a.body().toJsonObject().getString("id");
      } catch (RuntimeException notJson) {
        // no id to record
      }
      return a.classify(id);
    }
  }

  @BeforeAll
  static void start() {
    node = TestNode.start();
    sink = TestSink.start(node.vertx);
    node.node.connectors().register(new ToyConnector());
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  private static HttpResponse<Buffer> createBridge(JsonObject body) {
    return node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
  }

  private static JsonObject toyBridge(String roomId) {
    return new JsonObject().put("transport", "toy").put("direction", "outbound").put("room_id", roomId).put("name", "toy out");
  }

  @Test
  void aTransportNoConnectorServesIsRefusedNamingTheTransportsThereAre() {
    String roomId = node.createRoom("toy2").getString("room_id");
    HttpResponse<Buffer> response = createBridge(toyBridge(roomId).put("transport", "toy2").put("toy_url", sink.url(PATH)));

    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("detail")).contains("'toy2'", "\"custom\"", "\"toy\"");
  }

  @Test
  void theRegisteredConnectorValidatesItsOwnBridgeSettings() {
    String roomId = node.createRoom("toy settings").getString("room_id");
    HttpResponse<Buffer> response = createBridge(toyBridge(roomId));

    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("detail")).contains("toy_url");
  }

  @Test
  void aConnectorRegisteredFromOutsideTheCoreDeliversThroughIt() throws Exception {
    String roomId = node.createRoom("toy room").getString("room_id");
    JsonObject source = node.createBridge(roomId, "inbound");
    HttpResponse<Buffer> created = createBridge(toyBridge(roomId).put("toy_url", sink.url(PATH)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String outId = created.bodyAsJsonObject().getString("bridge_id");
    String secret = created.bodyAsJsonObject().getString("shared_secret");
    // The toy platform answers with the id it gave the message; the connector reads it as the foreign id.
    sink.answer(PATH, r -> TestSink.Answer.json(200, "{\"id\":\"toy-msg-1\"}"));

    HttpResponse<Buffer> posted = node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"),
        TestNode.message("toy-1", "U1", "hello toy")).await();
    assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(202);

    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(PATH).size() == 1);
    TestSink.Received request = sink.received(PATH).get(0);
    assertThat(request.json()).isEqualTo(new JsonObject().put("text", "hello toy").put("from", "User U1"));
    assertThat(request.headers().get("X-Toy-Token")).isEqualTo(hmacHex(secret, request.body()));

    await().atMost(10, TimeUnit.SECONDS).until(() -> "delivered".equals(lastDelivery(outId).getString("status")));
    JsonObject attempt = lastDelivery(outId).getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("outcome")).isEqualTo("delivered");
    assertThat(attempt.getInteger("status_code")).isEqualTo(200);
    assertThat(attempt.getString("foreign_id")).as("the foreign message id is stored with the attempt").isEqualTo("toy-msg-1");
    assertThat(sink.received(PATH)).hasSize(1);
  }

  private static JsonObject lastDelivery(String bridgeId) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId + "/deliveries"), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getJsonArray("deliveries").getJsonObject(0);
  }

  /** The token computed independently of the connector: hex HMAC-SHA256 of the body with the bridge's secret. */
  private static String hmacHex(String secret, String body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
  }
}
