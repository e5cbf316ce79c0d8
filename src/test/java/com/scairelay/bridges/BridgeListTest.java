package com.scairelay.bridges;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code GET /v1/admin/bridges}: states, paging with a cursor, and delivery counters from the delivery log. */
class BridgeListTest {
  static TestNode node;
  static TestSink sink;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50"));
    sink = TestSink.start(node.vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    node.close();
  }

  /** An outbound custom bridge to {@code path} of the sink, alone in a room of its own; answers its id and room. */
  private static String[] bridge(String path) {
    String roomId = node.createRoom("room for " + path).getString("room_id");
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", "outbound").put("room_id", roomId)
        .put("name", "to " + path).put("outbound_webhook", sink.url(path));
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return new String[] {response.bodyAsJsonObject().getString("bridge_id"), roomId};
  }

  private static void post(String roomId, String text) {
    HttpResponse<Buffer> posted = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + roomId + "/events"), new JsonObject()
        .put("sender", "nat").put("content", new JsonObject().put("msgtype", "swp.text").put("body", text)));
    assertThat(posted.statusCode()).as(posted.bodyAsString()).isEqualTo(201);
  }

  private static JsonObject get(String path) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, path), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static List<JsonObject> all(String query) {
    List<JsonObject> bridges = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page = get("/v1/admin/bridges?limit=2" + query + (cursor == null ? "" : "&cursor=" + cursor));
      assertThat(page.getJsonArray("bridges").size()).isLessThanOrEqualTo(2);
      assertThat(page.containsKey("next_cursor")).isTrue();
      page.getJsonArray("bridges").forEach(b -> bridges.add((JsonObject) b));
      cursor = page.getString("next_cursor");
      pages++;
    } while (cursor != null && pages < 100);
    return bridges;
  }

  private static JsonObject find(List<JsonObject> bridges, String id) {
    return bridges.stream().filter(b -> b.getString("bridge_id").equals(id)).findFirst().orElseThrow(() -> new AssertionError("no " + id));
  }

  private static List<String> ids(List<JsonObject> bridges) {
    return bridges.stream().map(b -> b.getString("bridge_id")).toList();
  }

  @Test
  void theListPagesWithACursorShowsStatesAndCountsDeliveredFailedAndQueued() {
    sink.answer("/refuse", r -> Answer.status(400));
    String[] delivering = bridge("/ok");
    String[] refused = bridge("/refuse");
    String[] paused = bridge("/later");
    String[] deleted = bridge("/gone");
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + paused[0] + "/pause"), null).statusCode()).isEqualTo(200);
    post(delivering[1], "one");
    post(delivering[1], "two");
    post(refused[1], "refused");
    post(paused[1], "held");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered("/ok").size() == 2 && sink.received("/refuse").size() == 1);
    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/bridges/" + deleted[0]), null).statusCode()).isEqualTo(204);
    node.awaitDeliveriesQuiet();

    List<JsonObject> live = all("");
    long liveCount = (Long) node.queryValue("SELECT count(*) FROM bridges WHERE deleted_at IS NULL");
    assertThat(live).hasSize((int) liveCount);
    assertThat(ids(live)).doesNotHaveDuplicates().doesNotContain(deleted[0])
        .contains(delivering[0], refused[0], paused[0]);
    assertThat(liveCount).as("more than one page").isGreaterThan(2);

    JsonObject counters = find(live, delivering[0]).getJsonObject("counters");
    assertThat(counters.getLong("delivered")).isEqualTo(2L);
    assertThat(counters.getLong("failed")).isEqualTo(0L);
    assertThat(counters.getLong("queued")).isEqualTo(0L);
    assertThat(counters.containsKey("inbound_accepted")).as("today's counters stay").isTrue();
    assertThat(find(live, refused[0]).getJsonObject("counters").getLong("failed")).isEqualTo(1L);
    assertThat(find(live, refused[0]).getJsonObject("counters").getLong("delivered")).isEqualTo(0L);
    assertThat(find(live, paused[0]).getJsonObject("counters").getLong("queued")).isEqualTo(1L);
    assertThat(find(live, paused[0]).getString("state")).isEqualTo("paused");
    assertThat(find(live, delivering[0]).getString("state")).isEqualTo("active");
    assertThat(get("/v1/admin/bridges/" + delivering[0]).getJsonObject("counters").getLong("delivered")).isEqualTo(2L);

    List<JsonObject> gone = all("&state=deleted");
    assertThat(ids(gone)).contains(deleted[0]).doesNotContain(delivering[0], paused[0]);
    assertThat(find(gone, deleted[0]).getString("state")).isEqualTo("deleted");
    assertThat(find(gone, deleted[0]).getString("deleted_at")).isNotNull();
    assertThat(ids(all("&state=paused"))).containsExactly(paused[0]);
    assertThat(ids(all("&state=active"))).contains(delivering[0], refused[0]).doesNotContain(paused[0], deleted[0]);
    assertThat(ids(all("&state=all"))).contains(delivering[0], refused[0], paused[0], deleted[0]);
  }

  @Test
  void badStateLimitOrCursorIsExplained() {
    assertBad("/v1/admin/bridges?state=asleep", "query parameter 'state' must be one of active, paused, deleted, all");
    assertBad("/v1/admin/bridges?limit=501", "limit");
    assertBad("/v1/admin/bridges?cursor=brg_missing", "query parameter 'cursor'");
  }

  private static void assertBad(String path, String detail) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.GET, path), null);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detail);
  }
}
