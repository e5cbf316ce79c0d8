package com.scairelay.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RelayConfigTest {

  @Test
  void defaultsComeFromConfRelayJson() {
    RelayConfig config = RelayConfig.load(Map.of());
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.dataDir()).isEqualTo(Path.of("./data"));
    assertThat(config.signatureTolerance()).isEqualTo(Duration.ofSeconds(300));
    assertThat(config.dedupeWindow()).isEqualTo(Duration.ofMinutes(10));
    assertThat(config.secretGrace()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.revocationCheck()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.adminToken()).isEmpty();
    assertThat(config.pgUrl()).isEmpty();
    assertThat(config.masterKey()).isEmpty();
  }

  @Test
  void environmentOverridesEveryKey() {
    RelayConfig config = RelayConfig.load(Map.of(
        "RELAY_HTTP_PORT", "9090",
        "RELAY_ADMIN_TOKEN", "a-very-long-admin-token",
        "RELAY_DATA_DIR", "/var/lib/relay",
        "RELAY_PG_URL", "postgresql://relay:pw@db:5432/relay",
        "RELAY_INBOUND_DEDUPE_WINDOW_SECONDS", "60",
        "RELAY_SECRETS_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assertThat(config.httpPort()).isEqualTo(9090);
    assertThat(config.adminToken()).contains("a-very-long-admin-token");
    assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/relay"));
    assertThat(config.pgUrl()).contains("postgresql://relay:pw@db:5432/relay");
    assertThat(config.dedupeWindow()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.masterKey()).hasValueSatisfying(key -> assertThat(key).hasSize(32));
  }

  @Test
  void aFileNamedByRelayConfigSitsBetweenDefaultsAndEnvironment(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"http\":{\"port\":7070,\"host\":\"0.0.0.0\"}}");
    RelayConfig config = RelayConfig.load(Map.of("RELAY_CONFIG", file.toString(), "RELAY_HTTP_HOST", "::1"));
    assertThat(config.httpPort()).isEqualTo(7070);
    assertThat(config.httpHost()).isEqualTo("::1");
    assertThat(config.pgPoolSize()).isEqualTo(16);
  }

  @Test
  void badValuesNameTheKeyAndItsVariable() {
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_HTTP_PORT", "eighty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.port").hasMessageContaining("RELAY_HTTP_PORT").hasMessageContaining("'eighty'");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_HTTP_PORT", "70000")))
        .hasMessageContaining("http.port").hasMessageContaining("0 to 65535");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_ADMIN_TOKEN", "short")))
        .hasMessageContaining("admin.token").hasMessageContaining("16").hasMessageNotContaining("short'");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_SECRETS_MASTER_KEY", "not base64!")))
        .hasMessageContaining("secrets.master_key").hasMessageContaining("RELAY_SECRETS_MASTER_KEY");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_AUTH_REVOCATION_CHECK_SECONDS", "0")))
        .hasMessageContaining("auth.revocation_check_seconds").hasMessageContaining("1 to 3600");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_CONFIG", "/nonexistent/relay.json")))
        .hasMessageContaining("/nonexistent/relay.json");
  }

  @Test
  void serverNameIsAServerNameOrThisHostsName() throws Exception {
    String host = java.net.InetAddress.getLocalHost().getHostName().toLowerCase(java.util.Locale.ROOT);
    assertThat(RelayConfig.load(Map.of()).serverName())
        .isEqualTo(new ServerName(host.matches("[a-z0-9][a-z0-9.-]*") ? host : "localhost", false));
    for (String name : new String[] {"chat.example.com", "chat.example.com:8448", "10.0.0.1", "[::1]:8448", "localhost"}) {
      assertThat(RelayConfig.load(Map.of("RELAY_SERVER_NAME", name)).serverName()).isEqualTo(new ServerName(name, true));
    }
    assertThat(RelayConfig.load(Map.of("RELAY_SERVER_NAME", " chat.example.com ")).serverName().name()).isEqualTo("chat.example.com");
    for (String bad : new String[] {"chat example", "chat.example.com:0", "chat.example.com:70000", "-chat", "@chat", "chat/x", "[zz]",
        "chat:", "chat'); DROP TABLE x; --"}) {
      assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_SERVER_NAME", bad))).as(bad)
          .isInstanceOf(ConfigException.class).hasMessageContaining("server.name (env RELAY_SERVER_NAME)").hasMessageContaining("a server name");
    }
  }
}
