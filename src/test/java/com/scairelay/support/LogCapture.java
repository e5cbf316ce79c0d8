package com.scairelay.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Everything this JVM logs while open, as the lines an operator would read (message, key-value pairs and
 * stack trace), with {@code com.scairelay} at TRACE; other loggers keep their levels.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
  private final Logger root;
  private final Logger ours;
  private final Level oursBefore;

  private LogCapture() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    setContext(context);
    setName("capture");
    root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ours = context.getLogger("com.scairelay");
    oursBefore = ours.getLevel();
  }

  public static LogCapture open() {
    LogCapture capture = new LogCapture();
    capture.start();
    capture.ours.setLevel(Level.TRACE);
    capture.root.addAppender(capture);
    return capture;
  }

  @Override
  protected void append(ILoggingEvent event) {
    event.prepareForDeferredProcessing();
    events.add(event);
  }

  public List<ILoggingEvent> events() {
    return List.copyOf(events);
  }

  /** Each event as text: level, logger, message, key-value pairs, MDC and the stack trace with every cause. */
  public List<String> lines() {
    return events.stream().map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage()
        + (e.getKeyValuePairs() == null ? "" : " " + e.getKeyValuePairs())
        + (e.getMDCPropertyMap().isEmpty() ? "" : " " + e.getMDCPropertyMap())
        + (e.getThrowableProxy() == null ? "" : "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy()))).toList();
  }

  public String text() {
    return String.join("\n", lines());
  }

  @Override
  public void close() {
    root.detachAppender(this);
    ours.setLevel(oursBefore);
    stop();
  }
}
