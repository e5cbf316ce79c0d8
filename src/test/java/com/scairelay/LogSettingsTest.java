package com.scairelay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.OutputStreamAppender;
import com.scairelay.config.RelayConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code log.format} and {@code log.level} from the configuration, whatever the environment said to logback. */
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

  private static OutputStreamAppender<?> out(LoggerContext context) {
    return (OutputStreamAppender<?>) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("OUT");
  }
}
