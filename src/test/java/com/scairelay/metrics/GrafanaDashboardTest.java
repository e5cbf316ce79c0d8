package com.scairelay.metrics;

import com.scairelay.support.PrometheusText;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code conf/grafana-dashboard.json} asks only for what a node exposes: every metric its queries name,
 * with the labels they select and group by, is in a real node's scrape after traffic; and every
 * {@code relay_*} meter the node has is on the dashboard.
 */
class GrafanaDashboardTest {
  private static final Path DASHBOARD = Path.of("conf/grafana-dashboard.json");
  private static final Set<String> PROMQL = Set.of("sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile",
      "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "label_values");
  /** Added by Prometheus when it scrapes, not by the node. */
  private static final Set<String> SCRAPE_LABELS = Set.of("instance", "job");
  private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
  private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!=|!~|=)");
  private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  /** The metric names and labels one query uses. */
  record Query(String expr, Set<String> metrics, Map<String, Set<String>> selected, Set<String> grouped) {
    static Query parse(String expr) {
      Set<String> metrics = new TreeSet<>();
      Map<String, Set<String>> selected = new java.util.TreeMap<>();
      Set<String> grouped = new TreeSet<>();
      Matcher selector = SELECTOR.matcher(expr);
      while (selector.find()) {
        Set<String> labels = selected.computeIfAbsent(selector.group(1), k -> new TreeSet<>());
        Matcher matcher = MATCHER.matcher(selector.group(2).replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\""));
        while (matcher.find()) {
          labels.add(matcher.group(1));
        }
      }
      Matcher grouping = GROUPING.matcher(expr);
      while (grouping.find()) {
        for (String label : grouping.group(1).split(",")) {
          grouped.add(label.trim());
        }
      }
      String rest = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"").replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^]]*]", " ")
          .replaceAll("\\b(?:by|without)\\s*\\([^)]*\\)", " ");
      Matcher identifier = IDENTIFIER.matcher(rest);
      while (identifier.find()) {
        String word = identifier.group();
        if (!PROMQL.contains(word)) {
          metrics.add(word);
        }
      }
      return new Query(expr, metrics, selected, grouped);
    }
  }

  static List<Query> queries(JsonObject dashboard) {
    List<Query> queries = new ArrayList<>();
    collect(dashboard.getJsonArray("panels"), queries);
    for (Object variable : dashboard.getJsonObject("templating").getJsonArray("list")) {
      if (((JsonObject) variable).getValue("query") instanceof JsonObject query) { // a datasource variable's query is a string
        // label_values(<metric>, <label>)
        Matcher m = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,\\s*([a-zA-Z_]+)\\s*\\)").matcher(query.getString("query"));
        assertThat(m.matches()).as(query.encode()).isTrue();
        queries.add(new Query(query.getString("query"), Set.of(m.group(1)), Map.of(m.group(1), Set.of(m.group(2))), Set.of()));
      }
    }
    return queries;
  }

  private static void collect(JsonArray panels, List<Query> queries) {
    for (Object item : panels) {
      JsonObject panel = (JsonObject) item;
      if (panel.containsKey("panels")) {
        collect(panel.getJsonArray("panels"), queries);
      }
      JsonArray targets = panel.getJsonArray("targets", new JsonArray());
      if (!"row".equals(panel.getString("type"))) {
        assertThat(targets).as("panel '" + panel.getString("title") + "' has queries").isNotEmpty();
      }
      for (Object target : targets) {
        queries.add(Query.parse(((JsonObject) target).getString("expr")));
      }
    }
  }

  /** A sample's family: the name without the suffixes a histogram or timer adds. */
  private static String family(String name) {
    return name.replaceAll("_(bucket|count|sum|max)$", "");
  }

  @Test
  void theQueryParserFindsMetricsAndLabels() {
    Query q = Query.parse("histogram_quantile(0.99, sum by (le, transport) (rate(relay_delivery_attempt_seconds_bucket{instance=~\"$instance\", "
        + "kind=\"bridge\"}[$__rate_interval]))) / max(up)");
    assertThat(q.metrics()).containsExactly("relay_delivery_attempt_seconds_bucket", "up");
    assertThat(q.selected()).containsEntry("relay_delivery_attempt_seconds_bucket", Set.of("instance", "kind"));
    assertThat(q.grouped()).containsExactly("le", "transport");
  }

  @Test
  void everyQueryUsesMetricsAndLabelsTheNodeExposesAndEveryRelayMeterIsShown() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    List<Query> queries = queries(dashboard);
    assertThat(queries).hasSizeGreaterThan(20);

    PrometheusText scrape;
    try (TestNode node = TestNode.start(Map.of("RELAY_METRICS_OUTBOX_INTERVAL_MS", "100", "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50"));
         TestSink sink = TestSink.start(node.vertx)) {
      scrape = scrapeAfterTraffic(node, sink);
    }

    Set<String> used = new TreeSet<>();
    for (Query query : queries) {
      assertThat(query.metrics()).as(query.expr()).isNotEmpty();
      Set<String> labels = new TreeSet<>(SCRAPE_LABELS);
      for (String metric : query.metrics()) {
        used.add(family(metric));
        assertThat(scrape.names()).as("metric of " + query.expr()).contains(metric);
        labels.addAll(scrape.labelNames(metric));
        Set<String> selected = new TreeSet<>(query.selected().getOrDefault(metric, Set.of()));
        selected.removeAll(SCRAPE_LABELS);
        assertThat(scrape.labelNames(metric)).as("labels selected of " + metric + " in " + query.expr()).containsAll(selected);
      }
      assertThat(labels).as("labels grouped by in " + query.expr()).containsAll(query.grouped());
    }
    Set<String> relayFamilies = new TreeSet<>();
    scrape.names().stream().filter(n -> n.startsWith("relay_")).map(GrafanaDashboardTest::family).forEach(relayFamilies::add);
    assertThat(used).as("every relay_* meter is on the dashboard").containsAll(relayFamilies);
  }

  /** Traffic that makes every meter exist: inbound, a delivery, a pending delivery, a GC. */
  private static PrometheusText scrapeAfterTraffic(TestNode node, TestSink sink) {
    String roomId = node.createRoom("dashboard").getString("room_id");
    JsonObject source = node.createBridge(roomId, "inbound");
    for (String path : List.of("/delivered", "/held")) {
      JsonObject created = node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges"), new JsonObject().put("transport", "custom")
          .put("direction", "outbound").put("room_id", roomId).put("name", path).put("outbound_webhook", sink.url(path))).bodyAsJsonObject();
      if (path.equals("/held")) {
        node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + created.getString("bridge_id") + "/pause"), null);
      }
    }
    node.postInbound(source.getString("bridge_id"), source.getString("shared_secret"), TestNode.message("g-1", "U1", "x")).await();
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.delivered("/delivered").size() == 1);
    System.gc(); // jvm_gc_pause_seconds exists once a collection was seen
    await().atMost(10, TimeUnit.SECONDS).until(() -> {
      PrometheusText scrape = PrometheusText.parse(node.send(node.request(HttpMethod.GET, "/metrics"), null).bodyAsString());
      return scrape.names().containsAll(List.of("relay_outbox_depth", "jvm_gc_pause_seconds_count", "relay_delivery_attempt_seconds_bucket"));
    });
    return PrometheusText.parse(node.send(node.request(HttpMethod.GET, "/metrics"), null).bodyAsString());
  }
}
