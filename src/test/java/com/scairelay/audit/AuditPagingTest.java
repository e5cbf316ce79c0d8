package com.scairelay.audit;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET /v1/admin/audit}: filters by category, action, resource, user and time; newest first with {@code before}. */
class AuditPagingTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /** Publishes an event one minute after the one before; answers its id. */
  private static String publish(String category, String action, String userId, String resourceId) {
    node.clock.advance(Duration.ofMinutes(1));
    JsonObject body = new JsonObject().put("category", category).put("action", action).put("user_id", userId).put("resource_id", resourceId);
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, "/v1/events"), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString("event_id");
  }

  private static HttpResponse<Buffer> get(String query) {
    return node.send(node.admin(HttpMethod.GET, "/v1/admin/audit?" + query), null);
  }

  private static JsonObject page(String query) {
    HttpResponse<Buffer> response = get(query);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static List<String> ids(JsonObject page) {
    return page.getJsonArray("events").stream().map(JsonObject.class::cast).map(e -> e.getString("event_id")).toList();
  }

  private static String q(Instant instant) {
    return URLEncoder.encode(instant.toString(), StandardCharsets.UTF_8);
  }

  @Test
  void filtersByCategoryActionResourceUserAndTimeCombine() {
    String early = publish("SHARING", "share.created", "alice", "doc-1");
    Instant from = node.clock.instant().plusSeconds(1);
    String alice1 = publish("SHARING", "share.created", "alice", "doc-1");
    publish("SHARING", "share.created", "bob", "doc-1");
    publish("SHARING", "share.created", "alice", "doc-2");
    publish("SHARING", "share.revoked", "alice", "doc-1");
    publish("FILE_ACCESS", "share.created", "alice", "doc-1");
    String alice2 = publish("SHARING", "share.created", "alice", "doc-1");
    Instant to = node.clock.instant().plusSeconds(1);
    publish("SHARING", "share.created", "alice", "doc-1");

    String all = "category=SHARING&action=share.created&resource_id=doc-1&user_id=alice";
    assertThat(ids(page(all + "&since=" + q(from) + "&until=" + q(to)))).containsExactly(alice1, alice2);
    assertThat(ids(page(all + "&since=" + q(from) + "&until=" + q(to) + "&order=desc"))).containsExactly(alice2, alice1);
    assertThat(ids(page(all + "&until=" + q(from)))).containsExactly(early);
    assertThat(ids(page("resource_id=doc-2"))).hasSize(1);
    assertThat(page("user_id=bob&resource_id=doc-1").getJsonArray("events").getJsonObject(0).getString("user_id")).isEqualTo("bob");
    assertThat(ids(page("resource_id=no-such-doc"))).isEmpty();
  }

  @Test
  void newestFirstPagesWithNextBeforeUntilItIsNull() {
    List<String> published = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      published.add(publish("COMPLIANCE", "hold.placed", "carol", "case-desc"));
    }
    String query = "resource_id=case-desc&order=desc&limit=2";

    JsonObject first = page(query);
    JsonObject second = page(query + "&before=" + first.getString("next_before"));
    JsonObject third = page(query + "&before=" + second.getString("next_before"));

    assertThat(ids(first)).containsExactly(published.get(4), published.get(3));
    assertThat(ids(second)).containsExactly(published.get(2), published.get(1));
    assertThat(ids(third)).containsExactly(published.get(0));
    assertThat(first.getString("next_before")).isEqualTo(published.get(3));
    assertThat(third.containsKey("next_before")).isTrue();
    assertThat(third.getString("next_before")).as("no more").isNull();
    assertThat(page("resource_id=case-desc&order=desc&limit=5").getString("next_before"))
        .as("a page that ends exactly at the last event says there is no more").isNull();
    assertThat(page(query).containsKey("next_after")).isFalse();
  }

  @Test
  void oldestFirstStaysAsItWas() {
    List<String> published = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      published.add(publish("ADMIN", "tail.read", null, "tail"));
    }
    JsonObject first = page("resource_id=tail&limit=2");
    JsonObject rest = page("resource_id=tail&limit=2&after=" + first.getString("next_after"));
    JsonObject end = page("resource_id=tail&limit=2&order=asc&after=" + rest.getString("next_after"));

    assertThat(ids(first)).containsExactly(published.get(0), published.get(1));
    assertThat(ids(rest)).containsExactly(published.get(2));
    assertThat(ids(end)).isEmpty();
    assertThat(end.getString("next_after")).as("the tail: the cursor given, to poll again").isEqualTo(published.get(2));
    assertThat(first.containsKey("next_before")).isFalse();
  }

  @Test
  void badSinceUntilOrderAndCursorsAreExplained() {
    String known = publish("SECURITY", "bad.params", null, "bad");
    assertProblem("since=yesterday", "query parameter 'since' must be an ISO-8601 date-time");
    assertProblem("until=2026-13-01T00:00:00Z", "query parameter 'until' must be an ISO-8601 date-time");
    assertProblem("since=2026-11-23T02:00:00Z&until=2026-11-23T01:00:00Z", "'until' (2026-11-23T01:00:00Z) must be after 'since'");
    assertProblem("order=newest", "query parameter 'order' must be 'asc'");
    assertProblem("order=desc&before=evt_missing", "query parameter 'before': there is no audit event evt_missing");
    assertProblem("before=" + known, "add order=desc");
    assertProblem("order=desc&after=" + known, "with order=desc page with 'before'");
    assertProblem("after=evt_missing", "query parameter 'after': there is no audit event evt_missing");
    assertProblem("category=NOPE", "query parameter 'category' must be one of");
  }

  private static void assertProblem(String query, String detail) {
    HttpResponse<Buffer> response = get(query);
    assertThat(response.statusCode()).as(query + ": " + response.bodyAsString()).isEqualTo(400);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).as(query).contains(detail);
  }

  /** On a large log, a page filtered by resource, by user or by time reads an index, not the table. */
  @Test
  void filtersByResourceUserAndTimeStayIndexScansOnALargeLog() {
    node.sql("""
        INSERT INTO audit_events (event_id, timestamp, category, action, user_id, resource_id, payload)
        SELECT 'evt_bulk_' || n, timestamptz '2020-01-01' + n * interval '1 second', 'FILE_ACCESS', 'file.read',
               'user-' || (n % 1000), 'file-' || (n % 5000), '{}'
        FROM generate_series(1, 100000) AS n""");
    node.sql("ANALYZE audit_events");

    assertThat(plan("resource_id = 'file-17' AND seq > 0 ORDER BY seq")).contains("audit_events_resource").doesNotContain("Seq Scan");
    assertThat(plan("user_id = 'user-17' AND seq < 9223372036854775807 ORDER BY seq DESC")).contains("audit_events_user")
        .doesNotContain("Seq Scan");
    assertThat(plan("timestamp >= '2020-01-02T10:00:00Z' AND timestamp < '2020-01-02T11:00:00Z' AND seq > 0 ORDER BY seq"))
        .contains("audit_events_timestamp").doesNotContain("Seq Scan");
  }

  private static String plan(String condition) {
    Iterable<Row> rows = node.sql("EXPLAIN SELECT seq, event_id FROM audit_events WHERE " + condition + " LIMIT 101");
    return StreamSupport.stream(rows.spliterator(), false).map(r -> r.getString(0)).collect(Collectors.joining("\n"));
  }
}
