package com.scairelay.transport;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** SSRF: the node's own networks are refused at bridge creation and at connect time unless configuration allows them. */
class OutboundGuardTest {
  final OutboundGuard strict = new OutboundGuard(false, false);

  @Test
  void classifiesInternalAddresses() throws Exception {
    for (String internal : new String[] {"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "fd00::1", "fe80::1"}) {
      assertThat(strict.refuse(InetAddress.getByName(internal))).as(internal).isPresent();
    }
    assertThat(strict.refuse(InetAddress.getByName("93.184.216.34"))).isEmpty();
    assertThat(strict.refuse(InetAddress.getByName("2606:2800:220:1::1"))).isEmpty();
    assertThat(new OutboundGuard(true, false).refuse(InetAddress.getByName("127.0.0.1"))).isEmpty();
    assertThat(new OutboundGuard(false, true).refuse(InetAddress.getByName("10.0.0.1"))).isEmpty();
  }

  @Test
  void refusesUrlsWithoutLookingUpNames() throws Exception {
    assertThat(strict.refuseUrl(new URI("http://localhost:8080/x"))).hasValueSatisfying(r -> assertThat(r).contains("outbound.allow_loopback"));
    assertThat(strict.refuseUrl(new URI("http://[::1]/x"))).isPresent();
    assertThat(strict.refuseUrl(new URI("http://169.254.169.254/latest/meta-data"))).hasValueSatisfying(r -> assertThat(r).contains("outbound.allow_private_networks"));
    assertThat(strict.refuseUrl(new URI("https://chat.example.org/hook"))).isEmpty();
  }

  @Test
  void bridgeCreationAndDeliveryRefuseLoopbackUnlessAllowed() {
    try (TestNode node = TestNode.start(Map.of("RELAY_OUTBOUND_ALLOW_LOOPBACK", "false", "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50"));
         TestSink sink = TestSink.start(node.vertx)) {
      String roomId = node.createRoom("ssrf").getString("room_id");
      JsonObject body = new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId).put("name", "x");

      HttpResponse<Buffer> refused = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body.copy().put("outbound_webhook", sink.url("/x")));
      assertThat(refused.statusCode()).isEqualTo(400);
      assertThat(refused.bodyAsJsonObject().getString("detail")).contains("'outbound_webhook'").contains("RELAY_OUTBOUND_ALLOW_LOOPBACK");

      // A bridge whose URL became internal after creation (DNS, an edit in the database) is refused when connecting.
      String bridgeId = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body.copy().put("outbound_webhook", "https://chat.example.org/hook"))
          .bodyAsJsonObject().getString("bridge_id");
      node.sql("UPDATE bridges SET config = jsonb_build_object('outbound_webhook', $2::text) WHERE id = $1", bridgeId, sink.url("/x"));
      node.node.bridgeRegistry().changed(node.vertx, bridgeId);
      JsonObject source = node.createBridge(roomId, "inbound");
      node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), TestNode.message("s-1", "U1", "x")).await();

      await().atMost(10, TimeUnit.SECONDS).until(() ->
          "failed".equals(node.queryValue("SELECT status FROM deliveries WHERE target_id = $1", bridgeId)));
      assertThat((String) node.queryValue("SELECT last_error FROM deliveries WHERE target_id = $1", bridgeId)).contains("outbound.allow_loopback");
      assertThat(sink.received("/x")).isEmpty();
    }
  }
}
