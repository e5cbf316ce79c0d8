package com.scairelay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.OutputStreamAppender;
import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code log.*} and {@code shutdown.*} settings; {@code log.format} and {@code log.level} applied whatever the environment said to logback. */
class LogSettingsTest {

  @Test
  void theConfiguredFormatAndLevelReplaceWhatLogbackStartedWith() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    try {
      LogSettings.apply(new RelayConfig.Operations("WARN", "json", "info", Duration.ofSeconds(30)), Map.of());
      assertThat(out(context).getEncoder()).isInstanceOf(JsonEncoder.class);
      assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.WARN);
      assertThat(context.getLogger("io.netty").getLevel()).as("the rest of logback.xml still applies").isEqualTo(Level.WARN);
    } finally {
      LogSettings.apply(new RelayConfig.Operations("INFO", "text", "info", Duration.ofSeconds(30)), Map.of("RELAY_LOG_FORMAT", "json"));
    }
    assertThat(out(context).getEncoder()).isInstanceOf(PatternLayoutEncoder.class);
    assertThat(((PatternLayoutEncoder) out(context).getEncoder()).getPattern()).as("the date, the time and the offset")
        .startsWith("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX}");
    assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
  }

  @Test
  void theLogAndShutdownSettingsAreCheckedAndNamed() {
    RelayConfig.Operations defaults = RelayConfig.load(Map.of()).operations();
    assertThat(defaults).isEqualTo(new RelayConfig.Operations("INFO", "text", "info", Duration.ofSeconds(30)));
    assertThat(RelayConfig.load(Map.of("RELAY_LOG_LEVEL", "debug", "RELAY_LOG_FORMAT", "JSON", "RELAY_LOG_REQUESTS", "off",
        "RELAY_SHUTDOWN_DEADLINE_SECONDS", "5")).operations())
        .isEqualTo(new RelayConfig.Operations("DEBUG", "json", "off", Duration.ofSeconds(5)));
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_LOG_FORMAT", "xml"))).isInstanceOf(ConfigException.class)
        .hasMessage("invalid configuration: log.format (env RELAY_LOG_FORMAT) must be one of text, json, got 'xml'");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_LOG_REQUESTS", "warn"))).hasMessageContaining("log.requests (env RELAY_LOG_REQUESTS)");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_LOG_LEVEL", "verbose"))).hasMessageContaining("log.level (env RELAY_LOG_LEVEL)");
    assertThatThrownBy(() -> RelayConfig.load(Map.of("RELAY_SHUTDOWN_DEADLINE_SECONDS", "0")))
        .hasMessageContaining("shutdown.deadline_seconds (env RELAY_SHUTDOWN_DEADLINE_SECONDS) must be an integer from 1 to 3600");
  }

  private static OutputStreamAppender<?> out(LoggerContext context) {
    return (OutputStreamAppender<?>) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("OUT");
  }
}
