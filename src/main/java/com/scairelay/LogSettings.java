package com.scairelay;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.util.Map;

/**
 * Applies {@code log.level} and {@code log.format} once the configuration is read. Logback set itself up
 * from {@code logback.xml} with {@code RELAY_LOG_LEVEL} and {@code RELAY_LOG_FORMAT} before that; a
 * {@code RELAY_CONFIG} file that says otherwise has it read {@code logback.xml} again with its values.
 * A file named by {@code -Dlogback.configurationFile} is the operator's own and is left as it is.
 */
final class LogSettings {
  private LogSettings() {
  }

  static void apply(RelayConfig.Operations settings, Map<String, String> env) {
    boolean asStarted = settings.logLevel().equalsIgnoreCase(env.getOrDefault("RELAY_LOG_LEVEL", "INFO"))
        && settings.logFormat().equalsIgnoreCase(env.getOrDefault("RELAY_LOG_FORMAT", "text"));
    if (asStarted || System.getProperty("logback.configurationFile") != null
        || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    URL xml = LogSettings.class.getResource("/logback.xml");
    if (xml == null) {
      return;
    }
    context.reset();
    context.putProperty("RELAY_LOG_LEVEL", settings.logLevel());
    context.putProperty("RELAY_LOG_FORMAT", settings.logFormat());
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(xml);
    } catch (JoranException e) {
      throw new ConfigException("cannot set up logging from " + xml + " (log.level, log.format): " + e.getMessage());
    }
  }
}
