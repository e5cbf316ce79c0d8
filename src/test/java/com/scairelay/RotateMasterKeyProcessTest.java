package com.scairelay;

import com.scairelay.store.Ids;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code java … Main rotate-master-key} as an operator runs it: a real process, its output and exit code. */
class RotateMasterKeyProcessTest {
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

  /** A finished run of the command: exit code and every line it wrote (standard output and error). */
  record Run(int exitCode, List<String> lines) {
    List<String> linesStarting(String prefix) {
      return lines.stream().filter(l -> l.startsWith(prefix)).toList();
    }
  }

  static Run command(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), MasterKeyCommand.MODE));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("RELAY_"));
    builder.environment().putAll(env);
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the command ends").isTrue();
    return new Run(process.exitValue(), output.lines().toList());
  }

  static String newKey() {
    return Base64.getEncoder().encodeToString(Ids.randomBytes(32));
  }

  @Test
  void theCommandReportsEachBatchAndASummaryThenExits0() throws Exception {
    String oldKey = newKey();
    String newKey = newKey();
    PgConnectOptions pg = TestPostgres.freshDatabase();
    try (TestNode node = TestNode.startOn(pg, Map.of("RELAY_SECRETS_MASTER_KEY", oldKey))) {
      String room = node.createRoom("r").getString("room_id");
      node.createBridge(room, "inbound");
      node.createBridge(room, "inbound");
    }

    Run run = command(Map.of("RELAY_PG_URL", MasterKeyRotationTest.url(pg), "RELAY_SECRETS_MASTER_KEY", newKey,
        "RELAY_SECRETS_PREVIOUS_MASTER_KEYS", oldKey), "--batch-size=1");

    assertThat(run.exitCode()).as(String.join("\n", run.lines())).isEqualTo(0);
    assertThat(run.linesStarting("rotate-master-key: bridges: ")).containsExactly(
        "rotate-master-key: bridges: 1 of 2 rows, 1 values sealed again, 0 were already",
        "rotate-master-key: bridges: 2 of 2 rows, 1 values sealed again, 0 were already");
    assertThat(run.linesStarting("rotate-master-key: done: ")).containsExactly("rotate-master-key: done: 3 secrets sealed again, 0 were already, "
        + "in 3 rows; every stored secret is sealed with master key " + com.scairelay.store.MasterKeys.idOf(Base64.getDecoder().decode(newKey)) + " now");
    assertThat(String.join("\n", run.lines())).doesNotContain(oldKey).doesNotContain(newKey);

    Run again = command(Map.of("RELAY_PG_URL", MasterKeyRotationTest.url(pg), "RELAY_SECRETS_MASTER_KEY", newKey));
    assertThat(again.exitCode()).isEqualTo(0);
    assertThat(again.linesStarting("rotate-master-key: done: ").get(0)).startsWith("rotate-master-key: done: 0 secrets sealed again, 3 were already");
  }

  @Test
  void badInputIsOneLineAndExitCode2() throws Exception {
    String key = newKey();
    int closedPort = TestNode.freePort();
    Map<Run, String> expected = new java.util.LinkedHashMap<>();
    expected.put(command(Map.of(), "--batch-size=0"), "scairelay: unknown argument '--batch-size=0'");
    expected.put(command(Map.of("RELAY_PG_URL", "postgresql://u:p@127.0.0.1:" + closedPort + "/db")),
        "scairelay: rotate-master-key needs secrets.master_key (env RELAY_SECRETS_MASTER_KEY)");
    expected.put(command(Map.of("RELAY_SECRETS_MASTER_KEY", key)), "scairelay: rotate-master-key needs pg.url (env RELAY_PG_URL)");
    expected.put(command(Map.of("RELAY_SECRETS_MASTER_KEY", key, "RELAY_SECRETS_PREVIOUS_MASTER_KEYS", "c2hvcnQ=")),
        "scairelay: invalid configuration: secrets.previous_master_keys");
    expected.put(command(Map.of("RELAY_SECRETS_MASTER_KEY", key, "RELAY_PG_URL", "postgresql://u:p@127.0.0.1:" + closedPort + "/db")),
        "scairelay: cannot use PostgreSQL at 127.0.0.1:" + closedPort + "/db (pg.url, env RELAY_PG_URL): ");

    expected.forEach((run, line) -> {
      assertThat(run.exitCode()).as(String.join("\n", run.lines())).isEqualTo(2);
      assertThat(run.linesStarting("scairelay: ")).as(String.join("\n", run.lines())).hasSize(1);
      assertThat(run.linesStarting("scairelay: ").get(0)).startsWith(line);
      assertThat(run.lines()).noneMatch(l -> l.startsWith("\tat ")).noneMatch(l -> l.contains("Exception"));
    });
  }

  @Test
  void aDevDataDirectoryGetsANewKeyAndItsNodeReadsEverySecretAfterwards(@TempDir Path dataDir) throws Exception {
    int port = TestNode.freePort();
    Map<String, String> env = Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port));
    DevModeProcessTest.NodeProcess node = new DevModeProcessTest.NodeProcess(env, "dev");
    String bridgeId;
    String secret;
    try {
      node.awaitLine("ScaiRelay dev node listening on");
      String token = Files.readString(dataDir.resolve("admin.token")).trim();
      String room = call(port, token, "/v1/rooms", new JsonObject().put("name", "r")).getString("room_id");
      JsonObject bridge = call(port, token, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "inbound")
          .put("room_id", room).put("name", "b"));
      bridgeId = bridge.getString("bridge_id");
      secret = bridge.getString("shared_secret");

      Run whileRunning = command(env, "--dev");
      assertThat(whileRunning.exitCode()).isEqualTo(2);
      assertThat(whileRunning.linesStarting("scairelay: ").get(0)).contains("another node is running on the data directory");
    } finally {
      node.process.destroy();
      node.exitCode();
    }
    String oldKey = Files.readString(dataDir.resolve("master.key")).trim();

    Run rotated = command(env, "--dev");

    assertThat(rotated.exitCode()).as(String.join("\n", rotated.lines())).isEqualTo(0);
    String newKey = Files.readString(dataDir.resolve("master.key")).trim();
    assertThat(newKey).isNotEqualTo(oldKey).hasSize(oldKey.length());
    assertThat(dataDir.resolve("master.key.previous")).doesNotExist();
    assertThat(rotated.linesStarting("rotate-master-key: done: ").get(0)).contains("sealed with master key "
        + com.scairelay.store.MasterKeys.idOf(Base64.getDecoder().decode(newKey)));
    assertThat(String.join("\n", rotated.lines())).doesNotContain(oldKey).doesNotContain(newKey);

    DevModeProcessTest.NodeProcess again = new DevModeProcessTest.NodeProcess(env, "dev");
    try {
      again.awaitLine("ScaiRelay dev node listening on");
      Buffer body = new JsonObject().put("event_id", "e-1").put("sender", new JsonObject().put("external_id", "U1"))
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "hi")).toBuffer();
      HttpResponse<Buffer> inbound = http.request(HttpMethod.POST, port, "127.0.0.1", "/v1/bridges/" + bridgeId + "/inbound")
          .putHeader(SignatureScheme.HEADER, SignatureScheme.header(secret, Instant.now().getEpochSecond(), body)).sendBuffer(body).await();
      assertThat(inbound.statusCode()).as(inbound.bodyAsString()).isEqualTo(202);
    } finally {
      again.process.destroy();
      again.exitCode();
    }
  }

  private static JsonObject call(int port, String token, String path, JsonObject body) {
    HttpResponse<Buffer> response = http.request(HttpMethod.POST, port, "127.0.0.1", path).putHeader("Authorization", "Bearer " + token)
        .sendJsonObject(body).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }
}
