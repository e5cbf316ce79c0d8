package com.scairelay.ingress;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sockets that trickle or say nothing are closed by the header and body deadlines (scaled down here
 * to fractions of a second), while normal requests keep being answered at once (issue 11, defect 4).
 */
class SlowClientsTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_HTTP_HEADER_TIMEOUT_MS", "600", "RELAY_HTTP_BODY_TIMEOUT_MS", "800"));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static Socket open() throws IOException {
    Socket socket = new Socket("127.0.0.1", node.port());
    socket.setSoTimeout(5_000);
    return socket;
  }

  /** True once the server closed the socket: reading (past any answer it sent) sees the end of the stream, or a reset. */
  private static boolean closedByServer(Socket socket) {
    try {
      InputStream in = socket.getInputStream();
      socket.setSoTimeout(50);
      int b;
      do {
        b = in.read();
      } while (b != -1);
      return true;
    } catch (java.net.SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Test
  void fiveHundredTrickledOrSilentRequestHeadsAreClosedWhileOthersAreAnswered() throws Exception {
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      Socket socket = open();
      if (i % 2 == 0) {
        socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      slow.add(socket);
    }
    long started = System.nanoTime();
    // Trickle a header byte every 100 ms to half of them: each byte would reset an idle timeout.
    while (System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(1_500)) {
      for (int i = 0; i < slow.size(); i += 2) {
        try {
          OutputStream out = slow.get(i).getOutputStream();
          out.write('X');
          out.flush();
        } catch (IOException closed) {
          // closed by the node: what this test waits for
        }
      }
      long before = System.nanoTime();
      HttpResponse<Buffer> live = node.send(node.request(HttpMethod.GET, "/health/live"), null);
      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).as("a normal request is answered, not held").isLessThan(2_000);
      Thread.sleep(100);
    }
    await().atMost(3, TimeUnit.SECONDS).untilAsserted(() -> assertThat(slow).allMatch(SlowClientsTest::closedByServer));
    for (Socket socket : slow) {
      socket.close();
    }
  }

  @Test
  void aBodyThatNeverCompletesIsClosed() throws Exception {
    try (Socket socket = open()) {
      socket.getOutputStream().write(("POST /v1/bridges/brg_x/inbound HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 1000\r\n\r\n{\"event_id\":").getBytes(StandardCharsets.US_ASCII));
      await().atMost(3, TimeUnit.SECONDS).until(() -> closedByServer(socket));
    }
  }

  @Test
  void aKeptAliveConnectionMayWaitBetweenRequestsButNotForever() throws Exception {
    try (Socket socket = open()) {
      OutputStream out = socket.getOutputStream();
      out.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] answer = new byte[512];
      int read = socket.getInputStream().read(answer);
      assertThat(new String(answer, 0, read, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
      await().atMost(3, TimeUnit.SECONDS).until(() -> closedByServer(socket));
    }
  }

  @Test
  void aPlainGetOnTheStreamIsAnsweredNotHeld() {
    String roomId = node.createRoom("stream").getString("room_id");
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, "/v1/rooms/" + roomId + "/stream"), null);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("detail")).contains("Upgrade: websocket");
  }
}
