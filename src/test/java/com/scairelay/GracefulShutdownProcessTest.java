package com.scairelay;

import com.scairelay.DevModeProcessTest.NodeProcess;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code kill <pid>} (SIGTERM) on a node that is delivering: it stops taking requests, lets the delivery
 * in flight be answered and recorded, gives its targets and lease back, closes its pools and exits 0; a
 * stop that outlasts {@code shutdown.deadline_seconds} exits 1 saying what it still waited for.
 */
class GracefulShutdownProcessTest {
  private static final String TOKEN = "graceful-admin-token-123";
  static Vertx vertx;
  static WebClient http;
  static TestSink sink;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    http = WebClient.create(vertx);
    sink = TestSink.start(vertx);
  }

  @AfterAll
  static void close() {
    sink.close();
    http.close();
    vertx.close().await();
  }

  @AfterEach
  void stopLeftovers() throws InterruptedException {
    new DevModeProcessTest().stopLeftovers();
  }

  @Test
  void sigtermFinishesTheDeliveryInFlightReleasesEverythingAndExitsZero() throws Exception {
    String database = "graceful";
    TestPostgres.server().createDatabase(database);
    AtomicInteger slowOnes = new AtomicInteger(5);
    sink.answer("/slow", r -> slowOnes.getAndDecrement() > 0 ? TestSink.Answer.delayed(200, 1_000) : TestSink.Answer.status(200));
    int port = TestNode.freePort();
    NodeProcess node = runNode(database, port, Map.of("RELAY_LOG_FORMAT", "json"));
    node.awaitLine("ScaiRelay run node listening on");

    String roomId = call(port, "/v1/rooms", new JsonObject().put("name", "graceful")).getString("room_id");
    JsonObject source = call(port, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "inbound")
        .put("room_id", roomId).put("name", "in"));
    String outbound = call(port, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", roomId).put("name", "out").put("outbound_webhook", sink.url("/slow"))).getString("bridge_id");
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      HttpResponse<Buffer> response = inbound(port, source.getString("bridge_id"), source.getString("shared_secret"), "g-" + i);
      assertThat(response.statusCode()).isEqualTo(202);
      accepted.add(response.bodyAsJsonObject().getString("event_id"));
    }
    await().atMost(30, TimeUnit.SECONDS).until(() -> !sink.received("/slow").isEmpty());

    node.terminate(); // SIGTERM, while the first delivery waits a second for its answer
    assertThat(node.exitCode()).as(String.join("\n", node.lines)).isEqualTo(0);

    String first = sink.received("/slow").get(0).eventId();
    assertThat(first).isEqualTo(accepted.get(0));
    try (Connection sql = connect(database)) {
      assertThat(rows(sql, "SELECT status FROM deliveries WHERE target_id = ? AND event_id = ?", outbound, first))
          .as("the delivery in flight was answered and recorded before the exit").containsExactly("delivered");
      assertThat(rows(sql, "SELECT count(*)::text FROM deliveries WHERE target_id = ?", outbound)).as("every event acknowledged is queued")
          .containsExactly("5");
      assertThat(rows(sql, "SELECT count(*)::text FROM deliveries WHERE lease_owner IS NOT NULL", null, null)).as("no lease kept").containsExactly("0");
      assertThat(rows(sql, "SELECT count(*)::text FROM relay_nodes", null, null)).as("the node left").containsExactly("0");
      assertThat(rows(sql, "SELECT count(*)::text FROM target_owners WHERE node_id <> ''", null, null)).as("no target held").containsExactly("0");
    }
    List<JsonObject> logged = node.lines.stream().filter(l -> l.startsWith("{")).map(JsonObject::new).toList();
    assertThat(logged).as("the log is JSON, one object a line").isNotEmpty()
        .allSatisfy(line -> assertThat(line.getString("level")).isNotBlank())
        .anySatisfy(line -> assertThat(line.getString("formattedMessage")).startsWith("ScaiRelay ").contains(" started: mode run, listening on 127.0.0.1:" + port))
        .anySatisfy(line -> assertThat(line.getString("formattedMessage")).startsWith("ScaiRelay stopped in "))
        .anySatisfy(line -> assertThat(line.getJsonArray("kvpList")).isNotNull());

    // Nothing acknowledged is lost: the next node sends the rest, each once, in order.
    NodeProcess next = runNode(database, port, Map.of());
    next.awaitLine("ScaiRelay run node listening on");
    await().atMost(60, TimeUnit.SECONDS).until(() -> sink.delivered("/slow").size() >= 5);
    await().atMost(30, TimeUnit.SECONDS).until(() -> {
      try (Connection sql = connect(database)) {
        return rows(sql, "SELECT status FROM deliveries WHERE target_id = ?", outbound, null).stream().allMatch("delivered"::equals);
      }
    });
    assertThat(sink.delivered("/slow")).containsExactlyElementsOf(accepted);
    next.terminate();
    assertThat(next.exitCode()).isEqualTo(0);
  }

  @Test
  void aStopPastItsDeadlineExitsOneNamingWhatDidNotFinish() throws Exception {
    String database = "deadline";
    TestPostgres.server().createDatabase(database);
    sink.answer("/never", r -> TestSink.Answer.never());
    int port = TestNode.freePort();
    NodeProcess node = runNode(database, port, Map.of("RELAY_SHUTDOWN_DEADLINE_SECONDS", "1", "RELAY_OUTBOUND_RESPONSE_TIMEOUT_MS", "60000"));
    node.awaitLine("ScaiRelay run node listening on");
    String roomId = call(port, "/v1/rooms", new JsonObject().put("name", "stuck")).getString("room_id");
    call(port, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", roomId).put("name", "out").put("outbound_webhook", sink.url("/never")));
    HttpResponse<Buffer> posted = http.post(port, "127.0.0.1", "/v1/rooms/" + roomId + "/events").putHeader("Authorization", "Bearer " + TOKEN)
        .sendJsonObject(new JsonObject().put("sender", "agent").put("content", new JsonObject().put("msgtype", "swp.text").put("body", "hi"))).await();
    assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(201);
    await().atMost(30, TimeUnit.SECONDS).until(() -> !sink.received("/never").isEmpty());

    long stopping = System.nanoTime();
    node.terminate();
    assertThat(node.exitCode()).as(String.join("\n", node.lines)).isEqualTo(1);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stopping)).as("the deadline bounds the stop").isLessThan(10);
    assertThat(node.lines).anySatisfy(line -> assertThat(line)
        .startsWith("scairelay: the stop did not finish within 1 s (shutdown.deadline_seconds, env RELAY_SHUTDOWN_DEADLINE_SECONDS)")
        .contains("still waiting for deliveries in flight").endsWith("exiting with code 1"));
  }

  private static NodeProcess runNode(String database, int port, Map<String, String> extra) throws java.io.IOException {
    PgConnectOptions pg = TestPostgres.server().connectOptions(database);
    Map<String, String> env = new HashMap<>(extra);
    env.put("RELAY_PG_URL", "postgresql://" + pg.getUser() + ":" + pg.getPassword() + "@127.0.0.1:" + pg.getPort() + "/" + database);
    env.put("RELAY_ADMIN_TOKEN", TOKEN);
    env.put("RELAY_SECRETS_MASTER_KEY", Base64.getEncoder().encodeToString(new byte[32]));
    env.put("RELAY_HTTP_PORT", Integer.toString(port));
    env.put("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    env.put("RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "100");
    return new NodeProcess(env, "run");
  }

  private static Connection connect(String database) throws SQLException {
    PgConnectOptions pg = TestPostgres.server().connectOptions(database);
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + database, pg.getUser(), pg.getPassword());
  }

  /** The first column of each row, as text; {@code a} and {@code b} fill the query's parameters when not null. */
  private static List<String> rows(Connection sql, String query, String a, String b) throws SQLException {
    try (var statement = sql.prepareStatement(query)) {
      if (a != null) {
        statement.setString(1, a);
      }
      if (b != null) {
        statement.setString(2, b);
      }
      List<String> values = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          values.add(rs.getString(1));
        }
      }
      return values;
    }
  }

  private static List<String> rows(Connection sql, String query, String a) throws SQLException {
    return rows(sql, query, a, null);
  }

  private static JsonObject call(int port, String path, JsonObject body) {
    HttpResponse<Buffer> response = http.request(HttpMethod.POST, port, "127.0.0.1", path).putHeader("Authorization", "Bearer " + TOKEN)
        .sendJsonObject(body).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  private static HttpResponse<Buffer> inbound(int port, String bridgeId, String secret, String eventId) {
    Buffer body = TestNode.message(eventId, "U1", "message " + eventId).toBuffer();
    return http.post(port, "127.0.0.1", "/v1/bridges/" + bridgeId + "/inbound")
        .putHeader(SignatureScheme.HEADER, SignatureScheme.header(secret, Instant.now().getEpochSecond(), body))
        .sendBuffer(body).await();
  }
}
