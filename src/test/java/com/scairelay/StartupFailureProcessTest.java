package com.scairelay;

import com.scairelay.DevModeProcessTest.NodeProcess;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A start that cannot succeed, as an operator meets it: one line naming what to fix and its variable,
 * exit code 2, no stack trace, nothing left running (dev mode's private PostgreSQL included).
 */
class StartupFailureProcessTest {
  private static final String PG_PASSWORD = "pg-password-never-shown-0123";

  @AfterEach
  void stopLeftovers() throws InterruptedException {
    new DevModeProcessTest().stopLeftovers();
  }

  @Test
  void aTakenPortStopsADevNodeWithOneLineAndItsPostgresStopped(@TempDir Path dataDir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      NodeProcess node = new NodeProcess(Map.of("RELAY_DATA_DIR", dataDir.toString(), "RELAY_HTTP_PORT", Integer.toString(port)), "dev");
      assertThat(node.exitCode()).as(String.join("\n", node.lines)).isEqualTo(2);

      List<String> errors = errorLines(node);
      assertThat(errors).as("one line says what is wrong:\n%s", String.join("\n", node.lines)).hasSize(1);
      assertThat(errors.get(0)).startsWith("scairelay: cannot listen on 127.0.0.1 port " + port + ": ").contains("RELAY_HTTP_PORT");
      assertNoStackTrace(node);
      assertThat(node.lines).as("the private PostgreSQL had started").anyMatch(l -> l.startsWith("Starting the private PostgreSQL"));
      assertThat(dataDir.resolve("pg/postmaster.pid")).as("the private PostgreSQL stopped with the node").doesNotExist();
      assertThat(postgresProcessesOf(dataDir)).as("no PostgreSQL runs on the data directory").isEmpty();
    }
  }

  @Test
  void runModeWithPostgresUnreachableStopsAtOnceNamingTheUrlWithoutItsPassword() throws Exception {
    int closed = TestNode.freePort();
    long started = System.nanoTime();
    NodeProcess node = runNode("postgresql://relay:" + PG_PASSWORD + "@127.0.0.1:" + closed + "/scairelay");
    assertThat(node.process.waitFor(30, TimeUnit.SECONDS)).as("the node gives up quickly").isTrue();
    assertThat(node.exitCode()).isEqualTo(2);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).isLessThan(30);

    List<String> errors = errorLines(node);
    assertThat(errors).as(String.join("\n", node.lines)).hasSize(1);
    assertThat(errors.get(0)).startsWith("scairelay: cannot use PostgreSQL at postgresql://relay@127.0.0.1:" + closed + "/scairelay")
        .contains("RELAY_PG_URL").contains("refused");
    assertThat(String.join("\n", node.lines)).doesNotContain(PG_PASSWORD);
    assertNoStackTrace(node);
  }

  @Test
  void runModeWithAWrongPostgresPasswordSaysPostgresRefusedTheLogin() throws Exception {
    PgConnectOptions pg = TestPostgres.server().connectOptions("postgres");
    NodeProcess node = runNode("postgresql://" + pg.getUser() + ":" + PG_PASSWORD + "@127.0.0.1:" + pg.getPort() + "/postgres");
    assertThat(node.exitCode()).isEqualTo(2);
    List<String> errors = errorLines(node);
    assertThat(errors).as(String.join("\n", node.lines)).hasSize(1);
    assertThat(errors.get(0)).startsWith("scairelay: cannot use PostgreSQL at postgresql://" + pg.getUser() + "@127.0.0.1:" + pg.getPort())
        .contains("RELAY_PG_URL").contains("password authentication failed");
    assertThat(String.join("\n", node.lines)).doesNotContain(PG_PASSWORD);
    assertNoStackTrace(node);
  }

  private static NodeProcess runNode(String pgUrl) throws IOException {
    return new NodeProcess(Map.of("RELAY_PG_URL", pgUrl, "RELAY_ADMIN_TOKEN", "run-mode-admin-token-123",
        "RELAY_SECRETS_MASTER_KEY", Base64.getEncoder().encodeToString(new byte[32]),
        "RELAY_HTTP_PORT", Integer.toString(TestNode.freePort())), "run");
  }

  private static List<String> errorLines(NodeProcess node) {
    return node.lines.stream().filter(l -> l.startsWith("scairelay: ")).toList();
  }

  private static void assertNoStackTrace(NodeProcess node) {
    assertThat(node.lines).as("no stack trace:\n%s", String.join("\n", node.lines))
        .noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception") || l.contains(" ERROR "));
  }

  /** PostgreSQL server processes whose command line names the data directory. */
  static List<ProcessHandle> postgresProcessesOf(Path dataDir) throws IOException {
    String dir = dataDir.toRealPath().toString();
    return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
        .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false))
        .filter(p -> p.info().arguments().map(args -> String.join(" ", args).contains(dir)).orElse(false)
            || Files.exists(Path.of("/proc/" + p.pid() + "/cmdline")) && cmdline(p).contains(dir))
        .toList();
  }

  private static String cmdline(ProcessHandle p) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline"))).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }
}
