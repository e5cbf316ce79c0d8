package com.scairelay.ingress;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes connections that hold the node without asking anything of it: one that has not sent a whole
 * request head within {@code http.header_timeout_ms} of opening (or of its previous answer), and one
 * whose request body is not complete within {@code http.body_timeout_ms}. Idle connections are the
 * HTTP server's {@code http.idle_timeout_seconds}; trickling a byte at a time defeats that one, not
 * these. Used from the one event loop of its HTTP verticle.
 */
final class Deadlines {
  private final Vertx vertx;
  private final long headerMs;
  private final long bodyMs;
  private final Map<HttpConnection, Long> waitingForHead = new HashMap<>();
  /** By connection, not request: routes see the request through vertx-web's wrapper, a different object. */
  private final Map<HttpConnection, Long> waitingForBody = new HashMap<>();

  Deadlines(Vertx vertx, Duration header, Duration body) {
    this.vertx = vertx;
    this.headerMs = header.toMillis();
    this.bodyMs = body.toMillis();
  }

  void opened(HttpConnection connection) {
    awaitHead(connection);
    connection.closeHandler(v -> {
      cancel(connection);
      Long body = waitingForBody.remove(connection);
      if (body != null) {
        vertx.cancelTimer(body);
      }
    });
  }

  /** A request head arrived: the connection now has {@code body_timeout_ms} to send its body. */
  void requestStarted(HttpServerRequest request) {
    HttpConnection connection = request.connection();
    cancel(connection);
    if (!request.isEnded()) {
      waitingForBody.put(connection, vertx.setTimer(bodyMs, id -> {
        waitingForBody.remove(connection);
        if (!request.isEnded()) {
          connection.close();
        }
      }));
    }
  }

  /** The request's body has arrived (or it was answered before): its deadline is off. */
  void bodyRead(HttpServerRequest request) {
    Long timer = waitingForBody.remove(request.connection());
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }

  /** The request was answered: the connection has {@code header_timeout_ms} to send the next one (not a WebSocket). */
  void answered(HttpServerRequest request) {
    bodyRead(request);
    if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
      // A timer armed after the connection closed only closes it again, once.
      awaitHead(request.connection());
    }
  }

  private void awaitHead(HttpConnection connection) {
    cancel(connection);
    waitingForHead.put(connection, vertx.setTimer(headerMs, id -> {
      waitingForHead.remove(connection);
      connection.close();
    }));
  }

  private void cancel(HttpConnection connection) {
    Long timer = waitingForHead.remove(connection);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }
}
