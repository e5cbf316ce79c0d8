package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** SSRF: the node's own networks are refused at bridge creation and at connect time unless configuration allows them. */
class OutboundGuardTest {
  final OutboundGuard strict = new OutboundGuard(false, false);

  static final String LOOPBACK = "outbound.allow_loopback";
  static final String PRIVATE = "outbound.allow_private_networks";
  /** What a refusal that no setting lifts says instead of a setting. */
  static final String NEVER = "no setting allows it";

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

  @Test
  void refusesLoopbackInEveryForm() throws Exception {
    // 0.0.0.0 and :: are here too: a connection to the unspecified address reaches this host.
    expectAll(LOOPBACK, "127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "::127.0.0.1", "::7f00:1",
        "64:ff9b::7f00:1", "64:ff9b::127.0.0.1", "2002:7f00:1::", "2002:7f00:1:0:0:0:0:1", "0.0.0.0", "::", "::ffff:0.0.0.0");
  }

  @Test
  void refusesInternalNetworksInEveryForm() throws Exception {
    expectAll(PRIVATE, "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.255", "0.1.2.3", "fc00::1", "fd00::1", "fe80::1", "febf:ffff::1", "fec0::1", "feff::1",
        // IPv4-compatible, IPv4-mapped, NAT64 and 6to4 forms of internal IPv4 addresses
        "::10.0.0.1", "::a9fe:a9fe", "::0.0.0.2", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:a00:1",
        "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b::c0a8:101", "2002:a9fe:a9fe::", "2002:a00:1::1", "2002:c0a8:101:1::1",
        // local-use NAT64 (where it embeds IPv4 depends on the operator's prefix) and SRv6 segment identifiers
        "64:ff9b:1::1", "64:ff9b:1::5db8:d822", "64:ff9b:1:ffff::1", "5f00::1");
  }

  @Test
  void refusesReservedRangesWhateverTheSettings() throws Exception {
    expectAll(NEVER, "192.0.0.1", "192.0.0.170", "192.0.2.1", "192.88.99.1", "198.18.0.1", "198.19.255.255", "198.51.100.7",
        "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "254.1.2.3", "255.255.255.255",
        "100::1", "100::ffff:ffff:ffff:ffff", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:1ff::1",
        "2001:db8::1", "2001:db8:ffff::1", "3fff::1", "ff02::1", "ff05::1:3",
        // embedded forms of reserved IPv4 addresses
        "::ffff:192.0.2.1", "::ffff:224.0.0.1", "64:ff9b::c000:201", "2002:c000:201::", "::198.51.100.1");
  }

  @Test
  void allowsGlobalAddressesIncludingEmbeddedOnes() throws Exception {
    expectAll(null, "93.184.216.34", "8.8.8.8", "1.1.1.1", "11.0.0.1", "100.63.255.255", "100.128.0.1", "126.255.255.255",
        "128.0.0.1", "169.253.255.255", "169.255.0.1", "172.15.255.255", "172.32.0.1", "192.0.1.1", "192.0.3.1",
        "192.88.98.1", "192.167.255.255", "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
        "2606:2800:220:1::1", "2001:4860:4860::8888", "2001:200::1", "2003::1", "2a00:1450:4001::1", "2001:db9::1",
        "2002:5db8:d822::", "2002:5db8:d822:1::1", "64:ff9b::5db8:d822", "64:ff9b::8.8.8.8", "::ffff:93.184.216.34", "::5db8:d822");
  }

  @Test
  void refusalNamesTheAddressTheEmbeddedIpv4AndTheSetting() throws Exception {
    assertThat(strict.refuseConfigured("http://[64:ff9b::a9fe:a9fe]:8080/latest/meta-data")).hasValueSatisfying(r -> assertThat(r)
        .contains("64:ff9b:0:0:0:0:a9fe:a9fe").contains("169.254.169.254").contains("NAT64")
        .contains("set outbound.allow_private_networks=true (env RELAY_OUTBOUND_ALLOW_PRIVATE_NETWORKS) to allow it"));
    assertThat(strict.refuseConfigured("http://[2002:a9fe:a9fe::]/x")).hasValueSatisfying(r -> assertThat(r)
        .contains("2002:a9fe:a9fe:0:0:0:0:0").contains("6to4").contains("169.254.169.254"));
    assertThat(strict.refuseConfigured("http://[::127.0.0.1]:8080/x")).hasValueSatisfying(r -> assertThat(r)
        .contains("0:0:0:0:0:0:7f00:1").contains("127.0.0.1").contains("IPv4-compatible")
        .contains("set outbound.allow_loopback=true (env RELAY_OUTBOUND_ALLOW_LOOPBACK) to allow it"));
    assertThat(new OutboundGuard(true, true).refuseConfigured("http://[2001:db8::1]/x")).hasValueSatisfying(r -> assertThat(r)
        .contains("2001:db8:0:0:0:0:0:1").contains("documentation").contains(NEVER).doesNotContain("set outbound."));
  }

  @Test
  void judgesIpv4MappedAddressesTheResolverKeepsAsIpv6() throws Exception {
    // InetAddress.getByName turns ::ffff:a.b.c.d into an Inet4Address; an Inet6Address can still carry one.
    for (String internal : new String[] {"10.0.0.1", "169.254.169.254", "127.0.0.1", "0.0.0.0"}) {
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xff;
      mapped[11] = (byte) 0xff;
      System.arraycopy(InetAddress.getByName(internal).getAddress(), 0, mapped, 12, 4);
      Inet6Address address = Inet6Address.getByAddress(null, mapped, -1);
      assertThat(strict.refuse(address)).as(internal).isPresent();
      assertThat(new OutboundGuard(true, true).refuse(address)).as(internal).isEmpty();
    }
    byte[] publicMapped = new byte[16];
    publicMapped[10] = (byte) 0xff;
    publicMapped[11] = (byte) 0xff;
    System.arraycopy(InetAddress.getByName("93.184.216.34").getAddress(), 0, publicMapped, 12, 4);
    assertThat(strict.refuse(Inet6Address.getByAddress(null, publicMapped, -1))).isEmpty();
  }

  @Test
  void connectTimeRefusesNamesAndLiteralsThatReachLoopback() {
    Vertx vertx = Vertx.vertx();
    try (TestSink sink = TestSink.start(vertx)) {
      int port = URI.create(sink.url("/")).getPort();
      RelayConfig.Outbound settings = new RelayConfig.Outbound(Duration.ofSeconds(1), Duration.ofSeconds(5), 4, false, true);
      Connector plain = new Connector() {
        @Override
        public String name() {
          return "plain";
        }

        @Override
        public TransportRequest render(Delivery delivery) {
          throw new UnsupportedOperationException();
        }
      };
      // Private networks allowed, loopback not: none of these may reach the sink on 127.0.0.1.
      HttpSender privateOnly = new HttpSender(vertx, settings, new OutboundGuard(false, true), Clock.systemUTC());
      for (String host : List.of("localhost", "0.0.0.0", "[::]", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]")) {
        TransportResult result = privateOnly.send(new TransportRequest(1, "http://" + host + ":" + port + "/x", new JsonObject(), "{}"), plain).await();
        assertThat(result.outcome()).as(host).isEqualTo(Outcome.PERMANENT);
        assertThat(result.error()).as(host).startsWith("refused: ").contains(LOOPBACK);
      }
      assertThat(sink.received("/x")).isEmpty();
      privateOnly.close();

      // The same name reaches the sink once loopback is allowed: the refusals above are the guard's.
      HttpSender loopbackAllowed = new HttpSender(vertx, settings, new OutboundGuard(true, false), Clock.systemUTC());
      TransportResult delivered = loopbackAllowed.send(new TransportRequest(2, "http://localhost:" + port + "/ok", new JsonObject(), "{}"), plain).await();
      assertThat(delivered.statusCode()).isEqualTo(200);
      assertThat(sink.received("/ok")).hasSize(1);
      loopbackAllowed.close();
    } finally {
      vertx.close().await();
    }
  }

  /**
   * Each literal, through {@code refuse(InetAddress)} and through {@code refuseConfigured(url)}, under all four
   * settings: refused unless {@code needs} (a setting, {@link #NEVER}, or null for a global address) allows it,
   * and the refusal names the address and what would allow it.
   */
  static void expectAll(String needs, String... literals) throws Exception {
    SoftAssertions soft = new SoftAssertions();
    for (String literal : literals) {
      InetAddress address = InetAddress.getByName(literal);
      String url = "http://" + (literal.contains(":") ? "[" + literal + "]" : literal) + ":8080/x";
      for (boolean allowLoopback : new boolean[] {false, true}) {
        for (boolean allowPrivate : new boolean[] {false, true}) {
          OutboundGuard guard = new OutboundGuard(allowLoopback, allowPrivate);
          boolean allowed = needs == null || (needs.equals(LOOPBACK) && allowLoopback) || (needs.equals(PRIVATE) && allowPrivate);
          String as = literal + " loopback=" + allowLoopback + " private=" + allowPrivate;
          for (Optional<String> verdict : List.of(guard.refuse(address), guard.refuseConfigured(url))) {
            if (allowed) {
              soft.assertThat(verdict).as(as).isEmpty();
            } else {
              soft.assertThat(verdict.orElse("<allowed>")).as(as).contains(address.getHostAddress()).contains(needs);
            }
          }
        }
      }
    }
    soft.assertAll();
  }
}
