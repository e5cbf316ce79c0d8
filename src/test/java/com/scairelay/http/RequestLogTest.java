package com.scairelay.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.scairelay.support.LogCapture;
import com.scairelay.support.TestNode;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code log.requests}: the level of the one line per request, or none at all. */
class RequestLogTest {

  @Test
  void requestLinesComeAtTheChosenLevelOrNotAtAll() {
    try (LogCapture log = LogCapture.open()) {
      assertThat(requestLines(log, "debug")).singleElement().satisfies(line -> {
        assertThat(line.getLevel()).isEqualTo(Level.DEBUG);
        assertThat(line.getFormattedMessage()).matches("GET /v1/admin/bridges/:id 404 \\d+\\.\\d ms req=[0-9a-f]+");
      });
      assertThat(requestLines(log, "off")).isEmpty();
      assertThat(requestLines(log, "info")).singleElement().satisfies(line -> assertThat(line.getLevel()).isEqualTo(Level.INFO));
    }
  }

  @Test
  void aWebSocketStreamHasOneLineWhenItsHandshakeIsDone() {
    try (LogCapture log = LogCapture.open()) {
      int before = log.events().size();
      try (TestNode node = TestNode.start()) {
        String roomId = node.createRoom("streamed").getString("room_id");
        WebSocket socket = node.vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port())
            .setURI("/v1/rooms/" + roomId + "/stream").addHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)).await();
        socket.close().await();
      }
      List<String> lines = log.events().subList(before, log.events().size()).stream()
          .filter(e -> e.getLoggerName().equals(RequestLog.class.getName())).map(ILoggingEvent::getFormattedMessage).toList();
      assertThat(lines).filteredOn(line -> line.contains("/stream")).singleElement().asString()
          .matches("GET /v1/rooms/:id/stream 101 \\d+\\.\\d ms req=[0-9a-f]+");
    }
  }

  /** The request lines of one admin request to a node started with {@code log.requests = setting}. */
  private static List<ILoggingEvent> requestLines(LogCapture log, String setting) {
    int before = log.events().size();
    try (TestNode node = TestNode.start(Map.of("RELAY_LOG_REQUESTS", setting))) {
      assertThat(node.send(node.admin(HttpMethod.GET, "/v1/admin/bridges/brg_missing?x=1"), null).statusCode()).isEqualTo(404);
    }
    return log.events().subList(before, log.events().size()).stream()
        .filter(e -> e.getLoggerName().equals(RequestLog.class.getName())).toList();
  }
}
