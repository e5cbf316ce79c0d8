package com.scairelay;

import com.scairelay.transport.SignatureScheme;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code java … Main dev} as a user runs it: a real process with its private PostgreSQL, killed with
 * SIGKILL and started again on the same data directory.
 */
class DevModeProcessTest {
  static Vertx vertx;
  static WebClient http;

  @BeforeAll
  static void client() {
    vertx = Vertx.vertx();
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void close() {
    http.close();
    vertx.close().await();
  }

  /** Every node process a test started, to stop those a failed test left running. */
  static final List<NodeProcess> started = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopLeftovers() throws InterruptedException {
    for (NodeProcess node : started) {
      if (node.process.isAlive()) {
        node.process.destroy();
        if (!node.process.waitFor(30, TimeUnit.SECONDS)) {
          node.process.destroyForcibly();
        }
      }
    }
    started.clear();
  }

  /** A node process; its output is kept to find the start-up lines. */
  static final class NodeProcess {
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();
    private final Thread reader;

    NodeProcess(Map<String, String> env, String mode) throws IOException {
      ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), mode);
      builder.environment().keySet().removeIf(k -> k.startsWith("RELAY_"));
      builder.environment().putAll(env);
      builder.redirectErrorStream(true);
      process = builder.start();
      started.add(this);
      reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            lines.add(line);
          }
        } catch (IOException ignored) {
          // the process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
    }

    String awaitLine(String prefix) {
      await().atMost(120, TimeUnit.SECONDS).until(() -> line(prefix).isPresent() || !process.isAlive());
      return line(prefix).orElseThrow(() -> new AssertionError("the node never printed '" + prefix + "':\n" + String.join("\n", lines)));
    }

    Optional<String> line(String prefix) {
      return lines.stream().filter(l -> l.startsWith(prefix)).findFirst();
    }

    /**
     * SIGTERM, as {@code kill <pid>} sends it, its output still read ({@link Process#destroy} would close
     * the pipes: what the node says while it stops would be lost).
     */
    void terminate() {
      process.toHandle().destroy();
    }

    /** Once the process has ended and its last line is read. */
    int exitCode() throws InterruptedException {
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("process ended").isTrue();
      reader.join(TimeUnit.SECONDS.toMillis(10));
      return process.exitValue();
    }
  }

  /**
   * The admin token a dev node announced. Its output here is a pipe, not a terminal, so the node prints only
   * where the token is ("Admin token: in <file> (mode 600)"); the token is read from there.
   */
  static String adminToken(NodeProcess node) throws IOException {
    String line = node.awaitLine("Admin token: ").substring("Admin token: ".length());
    assertThat(line).as("where to read the token, not the token").startsWith("in ").endsWith(" (mode 600)");
    return Files.readString(Path.of(line.substring("in ".length(), line.length() - " (mode 600)".length()))).trim();
  }

  @Test
  void aDevNodeStartsItsPostgresAgainWhenItDies(@TempDir Path dataDir) throws Exception {
    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port));
    NodeProcess node = new NodeProcess(env, "dev");
    try {
      node.awaitLine("ScaiRelay dev node listening on");
      String token = adminToken(node);
      call(port, token, "POST", "/v1/rooms", new JsonObject().put("name", "before"), 201);
      long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
      ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
      postmaster.destroyForcibly();
      assertThat(postmaster.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();

      await().atMost(60, TimeUnit.SECONDS).pollInterval(500, TimeUnit.MILLISECONDS).ignoreException(java.net.SocketException.class).until(() -> {
        assertThat(node.process.isAlive()).as("the node lives on: %s", node.lines).isTrue();
        var response = http.request(io.vertx.core.http.HttpMethod.POST, port, "127.0.0.1", "/v1/rooms")
            .putHeader("Authorization", "Bearer " + token).sendJsonObject(new JsonObject().put("name", "after")).await();
        assertThat(response.statusCode()).as("while PostgreSQL is away: 503, never 500").isIn(201, 503);
        return response.statusCode() == 201;
      });
      assertThat(String.join("\n", node.lines)).contains("stopped; starting it again");
      // Ready once the node holds its lease again: it ran out while PostgreSQL was away and is renewed every second.
      await().atMost(30, TimeUnit.SECONDS).untilAsserted(() ->
          assertThat(call(port, token, "GET", "/health/ready", null, 200).getString("postgres")).isEqualTo("UP"));
    } finally {
      node.process.destroy();
      node.exitCode();
    }
  }

  @Test
  void devNodeKeepsItsDatabaseAndCredentialsToItsUser(@TempDir Path dataDir) throws Exception {
    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port));
    NodeProcess node = new NodeProcess(env, "dev");
    node.awaitLine("ScaiRelay dev node listening on");
    String token = adminToken(node);
    assertThat(node.awaitLine("Admin token: ")).isEqualTo("Admin token: in " + dataDir.resolve("admin.token") + " (mode 600)");
    call(port, token, "GET", "/v1/admin/bridges", null, 200);

    assertDatabaseAndFilesGuarded(dataDir);
    assertThat(String.join("\n", node.lines)).as("the token is not in the node's output (a log file)").doesNotContain(token);

    node.process.destroy();
    node.exitCode();
  }

  @Test
  void aDataDirectoryOfAnEarlierVersionIsSecuredOnItsNextStart(@TempDir Path dataDir) throws Exception {
    // What an earlier version left: a cluster initialised with trust, credentials written 0644.
    try (var legacy = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("pg"))
        .setCleanDataDirectory(false).setRegisterShutdownHook(false).start()) {
      assertThat(activeHbaMethods(dataDir)).contains("trust");
    }
    String token = "dev_" + "ab".repeat(24);
    Files.writeString(dataDir.resolve("admin.token"), token + "\n");
    Files.writeString(dataDir.resolve("master.key"), Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    Files.setPosixFilePermissions(dataDir.resolve("admin.token"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(dataDir.resolve("master.key"), PosixFilePermissions.fromString("rw-r--r--"));

    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port));
    NodeProcess first = new NodeProcess(env, "dev");
    first.awaitLine("ScaiRelay dev node listening on");
    assertThat(adminToken(first)).as("the earlier token is kept").isEqualTo(token);
    call(port, token, "POST", "/v1/rooms", new JsonObject().put("name", "upgraded"), 201);
    assertDatabaseAndFilesGuarded(dataDir);
    assertThat(String.join("\n", first.lines)).as("the node says what it changed")
        .contains("giving the postgres role a password and requiring it").contains("admin.token was mode rw-r--r--");
    first.process.destroy();
    first.exitCode();

    // The next start logs in with the stored password.
    NodeProcess second = new NodeProcess(env, "dev");
    second.awaitLine("ScaiRelay dev node listening on");
    assertThat(call(port, token, "GET", "/health/ready", null, 200).getString("postgres")).isEqualTo("UP");
    assertDatabaseAndFilesGuarded(dataDir);
    second.process.destroy();
    second.exitCode();
  }

  /** No trust in pg_hba.conf, only the password in pg.password opens the database, credential files 0600. */
  private static void assertDatabaseAndFilesGuarded(Path dataDir) throws Exception {
    assertThat(activeHbaMethods(dataDir)).isNotEmpty().doesNotContain("trust");
    for (String file : List.of("admin.token", "master.key", "pg.password")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve(file)))).as(file).isEqualTo("rw-------");
    }
    int pgPort = Integer.parseInt(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(3).trim());
    String password = Files.readString(dataDir.resolve("pg.password")).trim();
    assertThat(password).hasSizeGreaterThanOrEqualTo(32).isNotEqualTo("postgres");
    for (String wrong : new String[] {"postgres", "", null, password + "x"}) {
      assertThat(connects(pgPort, wrong)).as("password '%s' is refused", wrong).isFalse();
    }
    assertThat(connects(pgPort, password)).as("the password of pg.password opens the database").isTrue();
  }

  private static List<String> activeHbaMethods(Path dataDir) throws IOException {
    return Files.readAllLines(dataDir.resolve("pg/pg_hba.conf")).stream()
        .map(l -> l.replaceAll("#.*", "").trim())
        .filter(l -> !l.isEmpty())
        .map(l -> l.split("\\s+"))
        .map(f -> f[0].equals("local") ? f[3] : f[4])
        .toList();
  }

  private static boolean connects(int port, String password) {
    java.util.Properties props = new java.util.Properties();
    props.setProperty("user", "postgres");
    if (password != null) {
      props.setProperty("password", password);
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/scairelay", props)) {
      return c.isValid(5);
    } catch (java.sql.SQLException e) {
      return false;
    }
  }

  @Test
  void devNodeKeepsEverythingAcrossSigkillAndRestart(@TempDir Path dataDir) throws Exception {
    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port));

    NodeProcess first = new NodeProcess(env, "dev");
    assertThat(first.awaitLine("ScaiRelay dev node listening on")).endsWith("http://127.0.0.1:" + port);
    String token = adminToken(first);
    JsonObject room = call(port, token, "POST", "/v1/rooms", new JsonObject().put("name", "persisted"), 201);
    JsonObject bridge = call(port, token, "POST", "/v1/admin/bridges", new JsonObject().put("transport", "custom")
        .put("direction", "inbound").put("room_id", room.getString("room_id")).put("name", "b"), 201);
    String bridgeId = bridge.getString("bridge_id");
    String secret = bridge.getString("shared_secret");
    HttpResponse<Buffer> stored = inbound(port, bridgeId, secret, TestNode.message("k-1", "U1", "before the crash"));
    assertThat(stored.statusCode()).isEqualTo(202);

    NodeProcess intruder = new NodeProcess(Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(TestNode.freePort())), "dev");
    assertThat(intruder.exitCode()).isEqualTo(2);
    assertThat(String.join("\n", intruder.lines)).contains("another node is running on the data directory");
    assertThat(call(port, token, "GET", "/health/ready", null, 200).getString("postgres")).isEqualTo("UP");

    first.process.destroyForcibly();
    assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    long orphan = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
    assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).as("PostgreSQL outlived the killed node").contains(true);

    NodeProcess second = new NodeProcess(env, "dev");
    second.awaitLine("ScaiRelay dev node listening on");
    assertThat(adminToken(second)).as("the same token after the restart").isEqualTo(token);
    JsonObject events = call(port, token, "GET", "/v1/rooms/" + room.getString("room_id") + "/events", null, 200);
    assertThat(events.getJsonArray("events")).hasSize(1);
    assertThat(events.getJsonArray("events").getJsonObject(0).getString("event_id"))
        .isEqualTo(stored.bodyAsJsonObject().getString("event_id"));
    HttpResponse<Buffer> duplicate = inbound(port, bridgeId, secret, TestNode.message("k-1", "U1", "before the crash"));
    assertThat(duplicate.statusCode()).as("the secret and the dedupe record survived").isEqualTo(200);
    assertThat(inbound(port, bridgeId, secret, TestNode.message("k-2", "U1", "after")).statusCode()).isEqualTo(202);

    second.process.destroy();
    second.exitCode();
    assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(dataDir.resolve("pg/postmaster.pid")).as("PostgreSQL stopped with the node").doesNotExist();
  }

  @Test
  void queuedDeliveriesSurviveSigkillAndAreDeliveredOnceAfterRestart(@TempDir Path dataDir) throws Exception {
    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port),
        "RELAY_DELIVERIES_LEASE_SECONDS", "2", "RELAY_DELIVERIES_BACKOFF_INITIAL_MS", "100",
        "RELAY_DELIVERIES_BACKOFF_MAX_MS", "300", "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "100");
    TestSink sink = TestSink.start(vertx);
    AtomicBoolean healthy = new AtomicBoolean(false);
    sink.answer("/crash", r -> healthy.get() ? TestSink.Answer.status(200) : TestSink.Answer.status(503));
    try {
      NodeProcess first = new NodeProcess(env, "dev");
      String token = adminToken(first);
      String roomId = call(port, token, "POST", "/v1/rooms", new JsonObject().put("name", "crash"), 201).getString("room_id");
      JsonObject source = call(port, token, "POST", "/v1/admin/bridges", new JsonObject().put("transport", "custom")
          .put("direction", "inbound").put("room_id", roomId).put("name", "in"), 201);
      String outbound = call(port, token, "POST", "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
          .put("room_id", roomId).put("name", "out").put("outbound_webhook", sink.url("/crash")), 201).getString("bridge_id");
      List<String> accepted = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        HttpResponse<Buffer> response = inbound(port, source.getString("bridge_id"), source.getString("shared_secret"),
            TestNode.message("crash-" + i, "U1", "m" + i));
        assertThat(response.statusCode()).isEqualTo(202);
        accepted.add(response.bodyAsJsonObject().getString("event_id"));
      }
      await().atMost(30, TimeUnit.SECONDS).until(() -> sink.received("/crash").size() >= 5);

      first.process.destroyForcibly();
      assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      healthy.set(true);
      NodeProcess second = new NodeProcess(env, "dev");
      second.awaitLine("ScaiRelay dev node listening on");

      await().atMost(60, TimeUnit.SECONDS).until(() -> sink.delivered("/crash").size() >= 20);
      // Once the node has recorded every delivery as delivered, it claims none of them again: the sink's count is final.
      await().atMost(30, TimeUnit.SECONDS).until(() -> call(port, token, "GET", "/v1/admin/bridges/" + outbound + "/deliveries", null, 200)
          .getJsonArray("deliveries").stream().allMatch(d -> "delivered".equals(((JsonObject) d).getString("status"))));
      assertThat(sink.delivered("/crash")).as("each once, in order").containsExactlyElementsOf(accepted);
      second.process.destroy();
      second.exitCode();
    } finally {
      sink.close();
    }
  }

  @Test
  void runModeServesFromTheConfiguredPostgres() throws Exception {
    PgConnectOptions pg = TestPostgres.server().connectOptions("runmode");
    TestPostgres.server().createDatabase("runmode");
    int port = TestNode.freePort();
    String token = "run-mode-admin-token-123";
    NodeProcess node = new NodeProcess(Map.of(
        "RELAY_PG_URL", "postgresql://" + pg.getUser() + ":" + pg.getPassword() + "@127.0.0.1:" + pg.getPort() + "/runmode",
        "RELAY_ADMIN_TOKEN", token,
        "RELAY_SECRETS_MASTER_KEY", Base64.getEncoder().encodeToString(new byte[32]),
        "RELAY_HTTP_PORT", Integer.toString(port)), "run");
    node.awaitLine("ScaiRelay run node listening on");
    assertThat(node.line("Admin token")).as("run mode never prints the token").isEmpty();

    call(port, token, "POST", "/v1/rooms", new JsonObject().put("name", "production"), 201);
    // An access token this relay issued works on the process's own clock (its revocation check reads clock.millis()).
    JsonObject app = call(port, token, "POST", "/v1/admin/applications",
        new JsonObject().put("name", "ops").put("scopes", new io.vertx.core.json.JsonArray().add("bridges:read")), 201);
    HttpResponse<Buffer> issued = http.post(port, "127.0.0.1", "/oauth/token")
        .basicAuthentication(app.getString("client_id"), app.getString("client_secret"))
        .sendForm(io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("grant_type", "client_credentials")).await();
    assertThat(issued.statusCode()).as(issued.bodyAsString()).isEqualTo(200);
    call(port, issued.bodyAsJsonObject().getString("access_token"), "GET", "/v1/admin/bridges", null, 200);
    HttpResponse<Buffer> ready = http.get(port, "127.0.0.1", "/health/ready").send().await();
    assertThat(ready.statusCode()).isEqualTo(200);

    node.process.destroy();
    assertThat(node.exitCode()).as("a clean stop (SIGTERM) exits 0").isEqualTo(0);
  }

  @Test
  void runModeWithoutItsSettingsStopsNamingTheKey() throws Exception {
    NodeProcess node = new NodeProcess(Map.of("RELAY_ADMIN_TOKEN", "a-long-enough-admin-token"), "run");
    assertThat(node.exitCode()).isEqualTo(2);
    assertThat(String.join("\n", node.lines)).contains("secrets.master_key").contains("RELAY_SECRETS_MASTER_KEY");
  }

  @Test
  void aBadValueStopsStartUpNamingTheKey() throws Exception {
    NodeProcess node = new NodeProcess(Map.of("RELAY_HTTP_PORT", "http"), "dev");
    assertThat(node.exitCode()).isEqualTo(2);
    assertThat(String.join("\n", node.lines)).contains("http.port (env RELAY_HTTP_PORT)").contains("'http'");
  }

  private static JsonObject call(int port, String token, String method, String path, JsonObject body, int status) {
    var request = http.request(io.vertx.core.http.HttpMethod.valueOf(method), port, "127.0.0.1", path)
        .putHeader("Authorization", "Bearer " + token);
    HttpResponse<Buffer> response = (body == null ? request.send() : request.sendJsonObject(body)).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    return response.bodyAsJsonObject();
  }

  private static HttpResponse<Buffer> inbound(int port, String bridgeId, String secret, JsonObject message) {
    Buffer body = message.toBuffer();
    return http.post(port, "127.0.0.1", "/v1/bridges/" + bridgeId + "/inbound")
        .putHeader(SignatureScheme.HEADER, SignatureScheme.header(secret, Instant.now().getEpochSecond(), body))
        .sendBuffer(body).await();
  }
}
