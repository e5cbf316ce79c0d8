package com.scairelay.targets;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The per-target breaker, with a scaled reset timeout of 1.5 s (retries themselves wait on the clock). */
class CircuitBreakerTest {
  static TestNode node;
  static TestSink sink;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of(
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50",
        "RELAY_DELIVERIES_BREAKER_MAX_FAILURES", "3",
        "RELAY_DELIVERIES_BREAKER_RESET_MS", "1500"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  @Test
  void opensAfterConsecutiveFailuresThenProbesOnceHalfOpenAndCloses() {
    String roomId = node.createRoom("breaker").getString("room_id");
    JsonObject source = node.createBridge(roomId, "inbound");
    AtomicBoolean healthy = new AtomicBoolean(false);
    sink.answer("/flaky", r -> healthy.get() ? Answer.status(200) : Answer.status(503));
    node.send(node.admin(io.vertx.core.http.HttpMethod.POST, "/v1/admin/bridges"), new JsonObject()
        .put("transport", "custom").put("direction", "outbound").put("room_id", roomId).put("name", "flaky")
        .put("outbound_webhook", sink.url("/flaky")));
    node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), TestNode.message("b-1", "U1", "x")).await();

    await().atMost(10, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> {
      if (sink.received("/flaky").size() >= 3) {
        return true;
      }
      node.clock.advance(Duration.ofSeconds(5));
      return false;
    });
    assertThat(sink.received("/flaky")).hasSize(3);

    node.clock.advance(Duration.ofMinutes(5));
    node.awaitDeliveriesQuiet();
    assertThat(sink.received("/flaky")).as("open: no attempt although one is due").hasSize(3);

    healthy.set(true);
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered("/flaky").size() == 1);
    assertThat(sink.received("/flaky")).as("one probe when half-open").hasSize(4);

    node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), TestNode.message("b-2", "U1", "y")).await();
    await().atMost(5, TimeUnit.SECONDS).until(() -> sink.delivered("/flaky").size() == 2);
  }
}
