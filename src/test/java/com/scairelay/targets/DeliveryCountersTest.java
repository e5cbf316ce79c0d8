package com.scairelay.targets;

import com.scairelay.support.TestNode;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** The lists' delivery counters on a target with a long delivery log: right, and read from indexes only. */
class DeliveryCountersTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
    node.sql("""
        INSERT INTO deliveries (target_id, target_kind, event_id, status, next_attempt_at, created_at, updated_at)
        SELECT CASE WHEN n % 10 = 0 THEN 'brg_small' WHEN n % 10 = 1 THEN 'brg_other_' || (n % 400) ELSE 'brg_big' END, 'bridge', 'ev_' || n,
               CASE WHEN n % 1000 = 1 THEN 'failed' WHEN n % 5000 = 2 THEN 'pending' WHEN n % 7000 = 3 THEN 'cancelled'
                    ELSE 'delivered' END, now(), now(), now()
        FROM generate_series(1, 100000) n""");
    node.sql("VACUUM ANALYZE deliveries");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void countsDeliveredFailedAndQueuedPerTarget() {
    Map<String, io.vertx.core.json.JsonObject> counted = new DeliveryCounters(node.sql).of(List.of("brg_big", "brg_small", "brg_none")).await();

    for (String target : new String[] {"brg_big", "brg_small"}) {
      for (String[] pair : new String[][] {{"delivered", "delivered"}, {"failed", "failed"}, {"queued", "pending"}}) {
        Object expected = node.queryValue("SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = $2", target, pair[1]);
        assertThat(counted.get(target).getLong(pair[0])).as(target + " " + pair[0]).isEqualTo(expected);
      }
    }
    assertThat(counted.get("brg_none")).isEqualTo(DeliveryCounters.none());
    assertThat(new DeliveryCounters(node.sql).of(List.of()).await()).isEmpty();
  }

  /**
   * Among many targets (as a relay has), each count reads an index, never the whole table. (Whether
   * PostgreSQL also skips the rows, an index-only scan, depends on the visibility map being current,
   * which a VACUUM next to the node's own sweeps does not always achieve: not asserted.)
   */
  @Test
  void everyCountReadsAnIndexNotTheTable() {
    Iterable<Row> rows = node.sql("EXPLAIN (ANALYZE, COSTS OFF) " + DeliveryCounters.COUNTS.replace("$1::text[]", "ARRAY['brg_big', 'brg_small']"));
    String plan = StreamSupport.stream(rows.spliterator(), false).map(r -> r.getString(0)).collect(Collectors.joining("\n"));

    assertThat(plan).doesNotContain("Seq Scan")
        .contains("deliveries_target_recent").contains("deliveries_target_failed")
        .contains("deliveries_target_cancelled");
  }
}
