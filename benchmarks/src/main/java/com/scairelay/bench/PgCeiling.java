package com.scairelay.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL ceiling: pgbench writing the inbound write set (a dedupe row, an event, an outbox row,
 * the same columns and indexes as the node's tables) into the same server, {@code batch} write sets per
 * transaction. Answers write sets per second for each batch size.
 */
final class PgCeiling {
  private static final String SCHEMA = """
      DROP TABLE IF EXISTS c_dedupe, c_events, c_deliveries;
      CREATE TABLE c_dedupe (bridge_id text, external_event_id text, event_id text NOT NULL, received_at timestamptz NOT NULL,
        PRIMARY KEY (bridge_id, external_event_id));
      CREATE INDEX ON c_dedupe (received_at);
      CREATE TABLE c_events (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, room_id text NOT NULL, sender_id text NOT NULL,
        content jsonb NOT NULL, origin_bridge_id text, external_id text, created_at timestamptz NOT NULL);
      CREATE INDEX ON c_events (room_id, seq);
      CREATE INDEX ON c_events (origin_bridge_id, external_id);
      CREATE TABLE c_deliveries (id bigserial PRIMARY KEY, target_id text NOT NULL, event_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending', next_attempt_at timestamptz NOT NULL, created_at timestamptz NOT NULL);
      CREATE INDEX ON c_deliveries (target_id, id) WHERE status = 'pending';
      CREATE INDEX ON c_deliveries (next_attempt_at) WHERE status = 'pending';
      """;

  private final int port;
  private final Path work;
  /** PGPASSWORD for psql and pgbench: the embedded server's password (the node's {@code <data dir>/pg.password}). */
  private final Map<String, String> env;

  PgCeiling(int port, String password, Path work) {
    this.port = port;
    this.work = work;
    this.env = Map.of("PGPASSWORD", password);
  }

  /** Write sets per second by batch size, each measured for {@code seconds}. */
  Map<Integer, Double> measure(List<Integer> batches, int seconds, int clients) throws IOException, InterruptedException {
    run(List.of("psql", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=0",
        "-c", "CREATE DATABASE ceiling"));
    run(List.of("psql", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-d", "ceiling", "-v", "ON_ERROR_STOP=1", "-c", SCHEMA));
    Map<Integer, Double> result = new LinkedHashMap<>();
    for (int batch : batches) {
      Path script = work.resolve("ceiling-" + batch + ".sql");
      Files.writeString(script, script(batch));
      String out = run(List.of("pgbench", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-n", "-M", "prepared",
          "-c", Integer.toString(clients), "-j", "2", "-T", Integer.toString(seconds), "-f", script.toString(), "ceiling"));
      Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(out);
      double tps = m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
      result.put(batch, tps * batch);
      System.out.printf("  [pg-ceiling] batch %d: %.0f transactions/s = %.0f write sets/s%n", batch, tps, tps * batch);
    }
    return result;
  }

  private static String script(int batch) {
    return """
        \\set b random(1, 2000000000)
        BEGIN;
        INSERT INTO c_dedupe SELECT 'brg_bench', :b || '-' || g, 'ev_' || :b || '-' || g, now() FROM generate_series(1, %1$d) g ON CONFLICT DO NOTHING;
        INSERT INTO c_events (id, room_id, sender_id, content, origin_bridge_id, external_id, created_at)
          SELECT 'ev_' || :b || '-' || g, 'room_bench', 'pt_bench', '{"msgtype":"swp.text","body":"hello from the ceiling"}'::jsonb,
                 'brg_bench', :b || '-' || g, now() FROM generate_series(1, %1$d) g;
        INSERT INTO c_deliveries (target_id, event_id, next_attempt_at, created_at)
          SELECT 'brg_out', 'ev_' || :b || '-' || g, now(), now() FROM generate_series(1, %1$d) g;
        COMMIT;
        """.formatted(batch);
  }

  private String run(List<String> command) throws IOException, InterruptedException {
    Exec.Output out = Exec.run(command, env, java.time.Duration.ofMinutes(10));
    if (out.exitCode() != 0 && !out.text().contains("already exists")) {
      throw new IOException(String.join(" ", command) + " failed:\n" + out.text());
    }
    return out.text();
  }
}
