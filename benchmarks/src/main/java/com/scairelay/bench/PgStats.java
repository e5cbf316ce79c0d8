package com.scairelay.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * pg_stat_statements of the node's database, through {@code psql}: {@link #reset} before a measured run,
 * {@link #top} after it (the statements that took the server the most time). The node's dev-mode PostgreSQL
 * preloads the library; on a server that does not (an older node, or a {@code --pg-url} server without it)
 * {@link #available} is false and {@link #unavailableReason} says why.
 */
final class PgStats {
  private static final String TOP = """
      SELECT json_build_object(
        'calls', coalesce((SELECT sum(calls) FROM pg_stat_statements s WHERE %1$s), 0),
        'total_ms', coalesce((SELECT round(sum(total_exec_time)::numeric, 1) FROM pg_stat_statements s WHERE %1$s), 0),
        'top', coalesce((SELECT json_agg(t) FROM (
          SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query, calls, round(mean_exec_time::numeric, 3) AS mean_ms,
                 round(total_exec_time::numeric, 1) AS total_ms, rows
          FROM pg_stat_statements s WHERE %1$s ORDER BY total_exec_time DESC LIMIT %2$d) t), '[]'::json))
      """;
  /** The node's database only, and not the harness's own queries of the view. */
  private static final String MINE = "s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
      + " AND s.query NOT ILIKE '%pg_stat_statements%'";

  private final List<String> connection;
  /** PGPASSWORD for psql: the embedded server's password (from the data directory's pg.password), else none. */
  private final Map<String, String> env;
  private String unavailable;

  private PgStats(List<String> connection, Map<String, String> env, String unavailable) {
    this.connection = connection;
    this.env = env;
    this.unavailable = unavailable;
    if (unavailable == null) {
      try {
        psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        psql("SELECT pg_stat_statements_reset()");
      } catch (IOException | InterruptedException e) {
        this.unavailable = e.getMessage();
      }
    }
  }

  /**
   * The node's embedded PostgreSQL (dev mode): 127.0.0.1:{@code port}, user postgres, the password the node
   * keeps in {@code <data dir>/pg.password}.
   */
  static PgStats embedded(int port, String database, String password) {
    return new PgStats(List.of("-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "-d", database),
        Map.of("PGPASSWORD", password), null);
  }

  /** The server of {@code --pg-url} (a postgresql:// URL psql understands). */
  static PgStats url(String url) {
    return new PgStats(List.of("-d", url), Map.of(), null);
  }

  static PgStats none(String reason) {
    return new PgStats(List.of(), Map.of(), reason);
  }

  boolean available() {
    return unavailable == null;
  }

  String unavailableReason() {
    return unavailable;
  }

  /** Forgets what was recorded so far; the next {@link #top} covers what ran since. */
  void reset() {
    if (!available()) {
      return;
    }
    try {
      psql("SELECT pg_stat_statements_reset()");
    } catch (IOException | InterruptedException e) {
      System.out.println("  !! pg_stat_statements_reset() failed: " + e.getMessage());
    }
  }

  /**
   * The {@code n} statements of the node's database with the most total execution time since the last reset:
   * {@code {calls, total_ms, top: [{query (120 chars), calls, mean_ms, total_ms, rows}]}}, or
   * {@code {unavailable: reason}}.
   */
  JsonObject top(int n) {
    if (!available()) {
      return new JsonObject().put("unavailable", unavailable);
    }
    try {
      return new JsonObject(psql(TOP.formatted(MINE, n)).trim());
    } catch (IOException | InterruptedException | RuntimeException e) {
      System.out.println("  !! reading pg_stat_statements failed: " + e.getMessage());
      return new JsonObject().put("unavailable", "reading it failed: " + e.getMessage());
    }
  }

  private String psql(String sql) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"));
    command.addAll(connection);
    command.addAll(List.of("-c", sql));
    Exec.Output out = Exec.run(command, env, Duration.ofSeconds(60));
    if (out.exitCode() != 0) {
      throw new IOException(out.text().lines().filter(l -> !l.isBlank()).findFirst().orElse("psql exited with " + out.exitCode()).trim());
    }
    return out.text();
  }
}
