package com.scairelay.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Measures a ScaiRelay node on this machine: starts it (dev mode, private PostgreSQL, or
 * {@code --pg-url}), plays the foreign systems and endpoints, runs the scenarios of benchmarks/README.md,
 * and writes the figures to {@code benchmarks/results/<date>/}. Nothing here asserts a number.
 */
public final class Bench {
  static final String DEFAULT_SCENARIOS = "ceilings,wrk,inbound,ordered,e2e,fanout,many,faulty";
  /** Issue 10: inbound acks (1 bridge; 1,000 bridges in 1,000 rooms) at least this share of the bare verify + parse ceiling. */
  static final double INBOUND_RATIO_TARGET = 0.35;
  /** Issue 10: relay end-to-end (100 pairs) delivered/s at least this share of the bare ceiling. */
  static final double E2E_RATIO_TARGET = 0.25;
  /** Issue 10: one ordered bridge delivers at least this share of the sink's sequential rate on one connection. */
  static final double ORDERED_RATIO_TARGET = 0.5;
  /** Issue 10: PostgreSQL CPU per delivered message, ms. */
  static final double PG_CPU_PER_MESSAGE_TARGET_MS = 0.1;

  private final Map<String, String> opts;
  private final Path repo;
  private final Path work;
  private final Report report;
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final Duration duration;
  private final Duration warmup;
  private final int connections;
  private final long startedNanos = System.nanoTime();
  /** Part of every event id: ids stay unique across runs against the same database (--pg-url), whose dedupe would answer 200. */
  private final String runId = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000, 36)
      + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36), 36);
  private Sink sink;
  private NodeProcess node;
  private Admin admin;
  private int nodePort;
  private final AtomicLong seqs = new AtomicLong();
  private Wrk wrk;
  private PgStats pgStats = PgStats.none("the node was not started");
  /** The node has had its JIT warm-up; the Java generator has had its own. */
  private boolean nodeWarm;
  private boolean generatorWarm;

  private Bench(Map<String, String> opts, String command) throws Exception {
    this.opts = opts;
    this.repo = Path.of(opts.getOrDefault("repo", ".")).toAbsolutePath().normalize();
    this.work = repo.resolve("benchmarks/work");
    Files.createDirectories(work);
    this.duration = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("duration", "5")));
    this.connections = Integer.parseInt(opts.getOrDefault("connections", "128"));
    this.warmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("warmup", "3")));
    this.report = new Report(Machine.describe(), command);
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Map<String, String> opts = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("arguments look like --name=value, got " + arg);
      }
      opts.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    String command = "benchmarks/run.sh " + String.join(" ", args);
    Bench bench = new Bench(opts, command);
    try {
      bench.runAll();
    } finally {
      bench.vertx.close().await();
    }
    System.exit(0);
  }

  private void runAll() throws Exception {
    Set<String> scenarios = new LinkedHashSet<>(List.of(opts.getOrDefault("scenarios", DEFAULT_SCENARIOS).split(",")));
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm'Z'"));
    Path out = repo.resolve(opts.getOrDefault("out", "benchmarks/results")).resolve(stamp);
    sink = new Sink(vertx);
    if (scenarios.contains("wrk") || scenarios.contains("ordered")) {
      if (Wrk.available()) {
        wrk = new Wrk(work, Integer.parseInt(opts.getOrDefault("wrk-threads", "1")), Integer.parseInt(opts.getOrDefault("wrk-connections", "64")));
      } else {
        System.out.println("!! wrk is not installed (apt-get install wrk): the wrk runs are skipped");
        report.figure("wrk", "wrk runs", Double.NaN, "", null, null, "skipped: wrk is not installed (Debian package wrk)");
      }
    }
    try {
      boolean javaCeiling = scenarios.contains("ceilings");
      boolean runWrkCeiling = scenarios.contains("wrk") && wrk != null;
      if (javaCeiling || runWrkCeiling) {
        int port = freePort();
        try (NodeProcess noop = noopServer(port, CEILING_SECRET)) {
          if (javaCeiling) {
            httpCeiling(noop, port);
          }
          if (runWrkCeiling) {
            // After the Java run the server is warm; on its own it needs the longer warm-up.
            wrkCeiling(noop, port, javaCeiling ? warmup : Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("ceiling-warmup", "10"))));
          }
        }
      }
      if (metricsAbRuns() > 0) {
        nodeEnv.put("RELAY_METRICS_ENABLED", "true"); // the first run of the A/B
      }
      startNode(stamp);
      if (scenarios.contains("ceilings")) {
        pgCeiling();
      }
      if (scenarios.contains("wrk") && wrk != null) {
        if (metricsAbRuns() > 0) {
          metricsAb(stamp, metricsAbRuns());
        } else {
          wrkInbound("");
        }
      }
      if (scenarios.contains("inbound")) {
        inbound(scenarios.contains("wrk") && wrk != null);
      }
      if (scenarios.contains("ordered")) {
        ordered();
      }
      if (scenarios.contains("e2e")) {
        endToEnd();
      }
      if (scenarios.contains("fanout")) {
        fanOut();
      }
      if (scenarios.contains("many")) {
        manyTargets();
      }
      if (scenarios.contains("faulty")) {
        faultyEndpoints();
      }
    } finally {
      if (admin != null) {
        admin.close();
      }
      if (node != null) {
        node.close();
        if (!opts.containsKey("keep-data") && dataDir != null) {
          deleteTree(dataDir);
        }
      }
      if (nodeJar != null) {
        Files.deleteIfExists(nodeJar);
      }
      sink.close();
      long seconds = (System.nanoTime() - startedNanos) / 1_000_000_000L;
      String elapsed = String.format("%d min %02d s (harness, without the build)", seconds / 60, seconds % 60);
      report.elapsed(elapsed);
      report.printHeadlines();
      report.write(out);
      Files.writeString(out.getParent().resolve("LATEST.md"), "Latest run: [" + stamp + "](" + stamp + "/results.md)\n");
      System.out.println("results written to " + out);
      System.out.println("elapsed: " + elapsed);
    }
  }

  // ---------------------------------------------------------------- ceilings

  private double httpCeiling = Double.NaN;
  /** The bare ceiling as wrk measures it (NoopServer: verify + parse + 202). */
  private double wrkCeiling = Double.NaN;
  private Map<Integer, Double> pgCeiling = Map.of();

  private static final String CEILING_SECRET = "srb_ceiling_secret";

  private void httpCeiling(NodeProcess noop, int port) throws Exception {
    section("HTTP ceiling: a bare Vert.x server verifying and parsing the same signed POSTs (Java generator)");
    // The first run of the generator also warms up its own JIT: give it longer.
    Duration generatorWarmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("ceiling-warmup", "10")));
    LoadGenerator.Result r = measure(noop, () -> new LoadGenerator(vertx, port, generatorWarmup).closedLoop("http-ceiling", connections, duration,
        inboundRequests(List.<String[]>of(new String[] {"brg_ceiling", CEILING_SECRET}), "ceiling")));
    generatorWarm = true;
    httpCeiling = r.throughput();
    report.figure("ceilings", "HTTP ceiling (verify + parse + 202), Java generator", r.throughput(), "req/s", null, null,
        String.format("p99 %.2f ms; the generator shares the 2 cores", r.p99()));
  }

  private NodeProcess noopServer(int port, String secret) throws Exception {
    NodeProcess noop = new NodeProcess(List.of(java(), "-cp", benchJar(), NoopServer.class.getName(), Integer.toString(port), secret),
        Map.of(), work.resolve("noop.log"));
    noop.awaitLine("noop server listening", 60);
    return noop;
  }

    /** (a) of the wrk runs: the bare ceiling, NoopServer (one verticle per core: verify, parse, 202), the same requests and wrk settings. */
  private void wrkCeiling(NodeProcess noop, int port, Duration noopWarmup) throws Exception {
    section("wrk: HTTP ceiling, the bare Vert.x server (verify + parse + 202) driven by wrk");
    List<String[]> bridge = List.<String[]>of(new String[] {"brg_ceiling", CEILING_SECRET});
    wrk.run("wrk-ceiling-warm-up", port, noopWarmup, wrkRequests(), k -> signedInbound(bridge, "wcw", k));
    Usage before = new Usage(noop);
    Wrk.Result r = wrk.run("wrk-http-ceiling", port, duration, wrkRequests(), k -> signedInbound(bridge, "wc", k));
    Usage used = new Usage(noop).since(before);
    wrkCeiling = r.successes() / r.seconds();
    report.run(asRun(r, r.successes()));
    resources(r.name(), noop, used, r.cpuSeconds());
    report.figure("ceilings", "HTTP ceiling (verify + parse + 202), wrk", wrkCeiling, "req/s", null, null,
        String.format("p50 %.2f ms, p99 %.2f ms, %d non-2xx, %d socket errors; wrk -t%d -c%d%s", r.p50(), r.p99(), r.statusErrors(),
            r.socketErrors(), r.threads(), r.connections(),
            r.recycled() > 0 ? String.format("; %,d requests sent twice (the ceiling does not dedupe)", r.recycled()) : ""));
  }

  private void pgCeiling() throws Exception {
    section("PostgreSQL ceiling: pgbench writing the inbound write set");
    int port = embeddedPgPort();
    if (port <= 0) {
      report.figure("ceilings", "PostgreSQL ceiling", Double.NaN, "", null, null, "skipped: not on the embedded PostgreSQL");
      return;
    }
    pgCeiling = new PgCeiling(port, embeddedPgPassword(), work).measure(List.of(1, 64, 256), Integer.parseInt(opts.getOrDefault("pg-seconds", "4")), 4);
    pgCeiling.forEach((batch, rate) -> report.figure("ceilings", "PostgreSQL ceiling, " + batch + " per transaction", rate,
        "write sets/s", null, null, "dedupe + event + outbox row"));
  }

  /** The bare ceiling the issue-10 ratios are held against: wrk's when it ran, else the Java generator's. */
  private double bareCeiling() {
    return Double.isNaN(wrkCeiling) ? httpCeiling : wrkCeiling;
  }

  private String bareCeilingName() {
    return Double.isNaN(wrkCeiling) ? "HTTP ceiling (Java generator)" : "HTTP ceiling (wrk)";
  }

  // ---------------------------------------------------------------- scenarios

  /**
   * (b) and (c) of the wrk runs: the node, one bridge; then 1,000 bridges in 1,000 rooms. Max rate, durable acks.
   * {@code label} ("" but in the metrics A/B) is added to each figure; answers, for each, the rate and the node's CPU
   * per ack: {one bridge acks/s, its µs, 1,000 bridges acks/s, its µs}.
   */
  private double[] wrkInbound(String label) throws Exception {
    section("wrk: inbound at max rate, signed unique POSTs, durable 202s" + (label.isEmpty() ? "" : " (" + label + ")"));
    String suffix = label.isEmpty() ? "" : "-" + label.replaceAll("[^a-z0-9]+", "-");
    String what = label.isEmpty() ? "" : " (" + label + ")";
    String room = admin.room("wrk-inbound").getString("room_id");
    JsonObject one = admin.bridge(room, "inbound", null);
    List<String[]> single = List.<String[]>of(new String[] {one.getString("bridge_id"), one.getString("shared_secret")});
    if (!nodeWarm) {
      Duration nodeWarmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("node-warmup", "10")));
      System.out.println("  warming up the node's JIT for " + nodeWarmup.toSeconds() + " s with wrk (not measured)");
      wrk.run("wrk-node-warm-up", nodePort, nodeWarmup, wrkRequests(), k -> signedInbound(single, "wnw", k));
      nodeWarm = true;
    }
    double[] oneRun = wrkNodeRun("wrk-inbound-1-bridge-max" + suffix, "1 bridge" + what, single);

    List<JsonObject> rooms = admin.many("rooms", 1000, i -> admin.post("/v1/rooms", new JsonObject().put("name", "wrk-" + i)));
    List<String[]> many = new ArrayList<>();
    for (JsonObject b : admin.many("bridges", 1000, i -> admin.post("/v1/admin/bridges",
        Admin.bridgeBody(rooms.get(i).getString("room_id"), "inbound", null)))) {
      many.add(new String[] {b.getString("bridge_id"), b.getString("shared_secret")});
    }
    double[] manyRun = wrkNodeRun("wrk-inbound-1000-bridges-1000-rooms-max" + suffix, "1,000 bridges in 1,000 rooms" + what, many);
    return new double[] {oneRun[0], oneRun[1], manyRun[0], manyRun[1]};
  }

  private int metricsAbRuns() {
    return Integer.parseInt(opts.getOrDefault("metrics-ab", "0"));
  }

  /**
   * What the node's meters cost on the inbound path ({@code --metrics-ab=N}): the wrk runs of {@link #wrkInbound}
   * on a node with {@code metrics.enabled} true, then false, alternating, N runs of each, every run a fresh node
   * process (its own JIT warm-up) on the same data directory, so whatever else the machine does hits both variants.
   * Reports every run, the medians of each variant and on / off of the medians, for the rate and for the node's CPU
   * per ack (which another load on the machine moves less than the rate: it slows the node, it does not make it work more).
   */
  private void metricsAb(String stamp, int runs) throws Exception {
    section("metrics A/B: the wrk runs with metrics on and off, alternating, " + runs + " of each, each on a fresh node");
    List<double[]> on = new ArrayList<>();
    List<double[]> off = new ArrayList<>();
    for (int i = 0; i < 2 * runs; i++) {
      boolean enabled = i % 2 == 0;
      if (i > 0) {
        admin.close();
        node.close();
        nodeEnv.put("RELAY_METRICS_ENABLED", Boolean.toString(enabled));
        nodeWarm = false;
        startNode(stamp);
      }
      String label = "metrics " + (enabled ? "on" : "off") + ", run " + (i / 2 + 1);
      (enabled ? on : off).add(wrkInbound(label));
      scrapeCheck(label, enabled);
    }
    String[] measures = {"1 bridge: acks/s", "1 bridge: node CPU µs per ack", "1,000 bridges in 1,000 rooms: acks/s",
        "1,000 bridges in 1,000 rooms: node CPU µs per ack"};
    for (int m = 0; m < measures.length; m++) {
      double medianOn = median(on, m);
      double medianOff = median(off, m);
      report.figure("metrics", measures[m] + ", metrics on / off (medians of " + runs + ")", medianOn / medianOff, "x", null, null,
          String.format("on %s, off %s; medians %.0f / %.0f", rates(on, m), rates(off, m), medianOn, medianOff));
    }
  }

  private static double median(List<double[]> runs, int measure) {
    double[] values = runs.stream().mapToDouble(r -> r[measure]).sorted().toArray();
    int n = values.length;
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  private static String rates(List<double[]> runs, int measure) {
    return runs.stream().map(r -> String.format("%.0f", r[measure])).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
  }

  /** After a run of the A/B: a node with metrics scrapes (size, time, its accepted counter), one without answers 404. */
  private void scrapeCheck(String label, boolean enabled) throws Exception {
    long started = System.nanoTime();
    Admin.Answer answer = admin.scrape("/metrics");
    double ms = (System.nanoTime() - started) / 1e6;
    if (!enabled) {
      report.figure("metrics", "GET /metrics (" + label + ")", answer.status(), "status", null, null, "metrics.enabled=false: no endpoint");
      return;
    }
    double accepted = 0;
    for (String line : answer.body().split("\n")) {
      if (line.startsWith("relay_inbound_requests_total{") && line.contains("outcome=\"accepted\"")) {
        accepted += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    report.figure("metrics", "GET /metrics (" + label + ")", ms, "ms", null, null, String.format("status %d, %,d bytes, "
        + "relay_inbound_requests_total{outcome=\"accepted\"} %.0f (every ack of this node's runs)", answer.status(), answer.body().length(), accepted));
  }

  /** Answers {acks/s, the node's CPU µs per ack}. */
  private double[] wrkNodeRun(String name, String what, List<String[]> bridges) throws Exception {
    String prefix = "w" + seqs.get();
    Wrk.Result warm = wrk.run(name + "-warm-up", nodePort, warmup, wrkRequests(), k -> signedInbound(bridges, prefix + "w", k));
    long[] before = stableCounters(bridges);
    // Twice as many unique requests as the warm-up rate needs for the run (none must be sent twice: the node
    // would answer 200 duplicate), at most what the bare ceiling could take.
    long needed = (long) (2 * warm.rate() * (duration.toSeconds() + 1));
    if (!Double.isNaN(wrkCeiling)) {
      needed = Math.min(needed, (long) (1.25 * wrkCeiling * (duration.toSeconds() + 1)));
    }
    long count = Math.min(1_000_000, Math.max(wrkRequests(), needed));
    pgStats.reset();
    Usage start = new Usage(node);
    Wrk.Result r = wrk.run(name, nodePort, duration, count, k -> signedInbound(bridges, prefix, k));
    Usage used = new Usage(node).since(start);
    long[] after = stableCounters(bridges);
    report.statements(name, pgStats.top(5));
    long accepted = after[0] - before[0];
    long duplicates = after[1] - before[1];
    long rejected = after[2] - before[2] + after[3] - before[3];
    // Only 202s are acks: wrk counts 200 (duplicate) as a success too, so the node's duplicates come off.
    long acks = Math.max(0, r.successes() - duplicates);
    double rate = acks / r.seconds();
    report.run(asRun(r, acks));
    resources(name, node, used, r.cpuSeconds());
    String checks = String.format("wrk: %,d answers in %.1f s, %,d non-2xx, %,d socket errors, p50 %.2f ms, p99 %.2f ms; node counters: %,d accepted, "
            + "%,d duplicates, %,d rejected; accepted - acks = %+d (at most %d: requests in flight when wrk stopped)%s", r.requests(), r.seconds(),
        r.statusErrors(), r.socketErrors(), r.p50(), r.p99(), accepted, duplicates, rejected, accepted - acks, r.connections(),
        r.recycled() > 0 ? String.format("; %,d requests sent twice (raise --wrk-requests)", r.recycled()) : "");
    report.figure("inbound", what + ", max rate, durable acks (wrk)", rate, "acks/s", null, null, checks);
    double ratio = rate / bareCeiling();
    report.headline("inbound", what + " / bare ceiling (wrk)", ratio, "x ceiling", String.format(">= %.2f", INBOUND_RATIO_TARGET),
        Double.isNaN(ratio) ? null : ratio >= INBOUND_RATIO_TARGET,
        String.format("%.0f acks/s of the %s's %.0f req/s", rate, bareCeilingName(), bareCeiling()));
    return new double[] {rate, acks == 0 ? Double.NaN : used.server * 1e6 / acks};
  }

  private void inbound(boolean wrkRan) throws Exception {
    section("inbound: signed POSTs, durable 202s (Java generator)");
    String room = admin.room("inbound").getString("room_id");
    JsonObject one = admin.bridge(room, "inbound", null);
    List<String[]> single = List.<String[]>of(new String[] {one.getString("bridge_id"), one.getString("shared_secret")});
    if (!nodeWarm || !generatorWarm) {
      Duration nodeWarmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("node-warmup", "10")));
      System.out.println("  warming up the JIT of the node and the generator for " + nodeWarmup.toSeconds() + " s (not measured)");
      new LoadGenerator(vertx, nodePort, nodeWarmup).closedLoop("node-warm-up", connections, Duration.ofSeconds(1), inboundRequests(single, "warm"));
      nodeWarm = true;
      generatorWarm = true;
    }
    // wrk measures the max rates without taking a core from the node; the Java max runs only on request (or without wrk).
    boolean javaMax = Boolean.parseBoolean(opts.getOrDefault("java-max", Boolean.toString(!wrkRan)));
    if (javaMax) {
      LoadGenerator.Result max = measure(node, () -> generator().closedLoop("inbound-1-bridge-max", connections, duration, inboundRequests(single, "one")));
      report.figure("inbound", "1 bridge, max rate, durable acks (Java generator)", max.throughput(), "acks/s", ">= 20,000", max.throughput() >= 20_000,
          ratio(max.throughput(), httpCeiling, "HTTP ceiling (Java generator)") + "; " + ratio(max.throughput(), pgCeiling.get(64), "PG ceiling at 64"));
    }

    List<String[]> many = new ArrayList<>();
    List<JsonObject> rooms = admin.many("rooms", 10, i -> admin.post("/v1/rooms", new JsonObject().put("name", "inbound-" + i)));
    for (JsonObject b : admin.many("bridges", 1000, i -> admin.post("/v1/admin/bridges",
        Admin.bridgeBody(rooms.get(i % 10).getString("room_id"), "inbound", null)))) {
      many.add(new String[] {b.getString("bridge_id"), b.getString("shared_secret")});
    }
    if (javaMax) {
      LoadGenerator.Result spread = measure(node, () -> generator().closedLoop("inbound-1000-bridges-max", connections, duration, inboundRequests(many, "many")));
      report.figure("inbound", "1,000 bridges in 10 rooms, max rate, durable acks (Java generator)", spread.throughput(), "acks/s", ">= 20,000",
          spread.throughput() >= 20_000, ratio(spread.throughput(), httpCeiling, "HTTP ceiling (Java generator)"));
    }

    double rate = Double.parseDouble(opts.getOrDefault("rate", "10000"));
    LoadGenerator.Result fixed = measure(node, () -> generator().openLoop("inbound-fixed-" + (int) rate, rate, 20_000, duration, inboundRequests(many, "fixed")));
    report.headline("inbound", String.format("p99 ack latency at %.0f/s offered (1,000 bridges in 10 rooms)", rate), fixed.p99(), "ms", "< 20 ms",
        fixed.p99() < 20, String.format("achieved %.0f/s, p50 %.2f ms, errors %d", fixed.throughput(), fixed.p50(), fixed.errors()));
  }

  /**
   * One ordered bridge (max_in_flight 1): first the sink's own sequential rate (wrk, one keep-alive connection,
   * back-to-back POSTs of the size the node delivers), then a backlog held while the bridge is paused and
   * delivered once it resumes: delivered/s from the first delivery to the last (or the end of the window).
   */
  private void ordered() throws Exception {
    section("ordered: one outbound bridge with max_in_flight 1, against the sink's sequential rate");
    String room = admin.room("ordered").getString("room_id");
    JsonObject a = admin.bridge(room, "inbound", null);
    JsonObject b = admin.post("/v1/admin/bridges", Admin.bridgeBody(room, "outbound", sink.url("/ordered")).put("max_in_flight", 1)).await();
    String bId = b.getString("bridge_id");
    List<String[]> source = List.<String[]>of(new String[] {a.getString("bridge_id"), a.getString("shared_secret")});
    LongFunction<LoadGenerator.Request> requests = inboundRequests(source, "ordered");

    // A probe: what the node sends (body and headers), so the sink is measured with requests of that size.
    sink.reset();
    LoadGenerator.Request probe = requests.apply(0);
    int status = admin.send(probe.path(), probe.headers(), probe.body());
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (sink.delivered.sum() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    if (sink.delivered.sum() == 0 || sink.lastBody == null) {
      report.figure("ordered", "1 ordered bridge (max_in_flight 1), delivered/s", Double.NaN, "", null, null,
          "skipped: the probe (answered " + status + ") was not delivered within 30 s");
      return;
    }
    String body = sink.lastBody.toString(StandardCharsets.UTF_8);
    Map<String, String> headers = new LinkedHashMap<>();
    sink.lastHeaders.forEach(h -> {
      String n = h.getKey().toLowerCase();
      if (!n.equals("host") && !n.equals("content-length") && !n.equals("connection") && !n.equals("transfer-encoding")) {
        headers.put(h.getKey(), h.getValue());
      }
    });

    double sequential = Double.NaN;
    String sequentialNote = "wrk is not installed";
    if (wrk != null) {
      Wrk.Request same = new Wrk.Request("/sequential", headers, body.replace('\n', ' ').replace('\t', ' '));
      wrk.run("wrk-sink-sequential-warm-up", sink.port(), warmup, 1, k -> same, 1, 1);
      Wrk.Result seq = wrk.run("wrk-sink-sequential", sink.port(), duration, 1, k -> same, 1, 1);
      sequential = seq.successes() / seq.seconds();
      report.run(asRun(seq, seq.successes()));
      sequentialNote = String.format("wrk -t1 -c1, %d-byte bodies with the node's headers; p50 %.3f ms, p99 %.3f ms", body.length(), seq.p50(), seq.p99());
    }
    report.figure("ordered", "sink's sequential rate, one keep-alive connection", sequential, "req/s", null, null, sequentialNote);

    // The backlog: what a node at the target delivers in 1.5 s (a slower one is measured for --duration at most).
    admin.call(HttpMethod.POST, "/v1/admin/bridges/" + bId + "/pause");
    int backlog = (int) Math.max(2_000, Math.min(50_000, Double.isNaN(sequential) ? 10_000 : sequential * ORDERED_RATIO_TARGET * 1.5));
    LoadGenerator.Result posted = new LoadGenerator(vertx, nodePort, Duration.ZERO).closedLoop("ordered-backlog-" + backlog, connections,
        Duration.ofMinutes(5), seq -> seq < backlog ? requests.apply(seq) : null);
    long expected = posted.okIncludingWarmup();
    sink.reset();
    pgStats.reset();
    Usage start = new Usage(node);
    admin.call(HttpMethod.POST, "/v1/admin/bridges/" + bId + "/resume");
    long resumed = System.nanoTime();
    long window = Math.max(2, duration.toSeconds()) * 1_000_000_000L;
    while (sink.delivered.sum() < expected && System.nanoTime() - resumed < window) {
      Thread.sleep(10);
    }
    Usage used = new Usage(node).since(start);
    long delivered = sink.delivered.sum();
    double seconds = (sink.lastNanos - sink.firstNanos) / 1e9;
    double rate = delivered > 1 ? (delivered - 1) / seconds : Double.NaN;
    report.statements("ordered-backlog-delivery", pgStats.top(5));
    // What is left of the backlog is cancelled with the bridge, so it does not run into the next scenario.
    admin.call(HttpMethod.DELETE, "/v1/admin/bridges/" + bId);
    report.headline("ordered", "1 ordered bridge (max_in_flight 1), delivered/s from a backlog", rate, "deliveries/s",
        String.format(">= %.1f x sink's sequential rate", ORDERED_RATIO_TARGET), Double.isNaN(sequential) || Double.isNaN(rate) ? null
            : rate >= ORDERED_RATIO_TARGET * sequential,
        String.format("%.2f x the sink's %.0f req/s; %,d of %,d held deliveries in %.1f s (first to last); "
                + "first delivery %.0f ms after resume", rate / sequential, sequential, delivered, expected, seconds,
            (sink.firstNanos - resumed) / 1e6));
    perMessage("ordered", "ordered-backlog-delivery", used, delivered, false);
  }

  private void endToEnd() throws Exception {
    section("relay end-to-end: inbound on bridge A, delivered to bridge B's sink");
    int manyPairs = Integer.parseInt(opts.getOrDefault("e2e-pairs", "100"));
    // One ordered pair cannot deliver 5,000/s: its fixed-rate run only measures a backlog draining, and takes long.
    boolean singleFixed = manyPairs == 1 || Boolean.parseBoolean(opts.getOrDefault("e2e-fixed-1-pair", "false"));
    for (int pairs : manyPairs == 1 ? new int[] {1} : new int[] {1, manyPairs}) {
      section("relay end-to-end, " + pairs + " pair(s)");
      List<String[]> sources = new ArrayList<>();
      int p = pairs;
      List<JsonObject> rooms = admin.many("rooms", pairs, i -> admin.post("/v1/rooms", new JsonObject().put("name", "e2e-" + p + "-" + i)));
      List<JsonObject> inbound = admin.many("inbound bridges", pairs, i -> admin.post("/v1/admin/bridges",
          Admin.bridgeBody(rooms.get(i).getString("room_id"), "inbound", null)));
      admin.many("outbound bridges", pairs, i -> admin.post("/v1/admin/bridges",
          Admin.bridgeBody(rooms.get(i).getString("room_id"), "outbound", sink.url("/e2e/" + p + "/" + i))));
      for (JsonObject a : inbound) {
        sources.add(new String[] {a.getString("bridge_id"), a.getString("shared_secret")});
      }
      sink.reset();
      long start = System.nanoTime();
      Usage before = new Usage(node);
      String maxName = "e2e-" + pairs + "-pairs-max";
      LoadGenerator.Result max = measure(node, () -> generator().closedLoop(maxName, connections, duration,
          inboundRequests(sources, "e2e" + pairs)), false);
      double drained = awaitDeliveries(max.okIncludingWarmup(), e2eDrainLimit());
      Usage used = new Usage(node).since(before);
      report.statements(maxName, pgStats.top(5));
      double seconds = (drained - start) / 1e9;
      double deliveredPerSecond = sink.delivered.sum() / seconds;
      report.add(pairs == manyPairs && pairs > 1, "e2e", pairs + " bridge pair(s), delivered/s at max inbound", deliveredPerSecond, "deliveries/s", ">= 15,000",
          deliveredPerSecond >= 15_000, String.format("%d acked (with warm-up), %d delivered, drained %.1f s after the load started",
              max.okIncludingWarmup(), sink.delivered.sum(), seconds));
      if (pairs == manyPairs && pairs > 1) {
        double ratio = deliveredPerSecond / bareCeiling();
        report.headline("e2e", pairs + " bridge pairs, delivered/s / bare ceiling", ratio, "x ceiling", String.format(">= %.2f", E2E_RATIO_TARGET),
            Double.isNaN(ratio) ? null : ratio >= E2E_RATIO_TARGET,
            String.format("%.0f deliveries/s of the %s's %.0f req/s", deliveredPerSecond, bareCeilingName(), bareCeiling()));
      }
      exactlyOnce("e2e " + pairs + " pair(s)", max.okIncludingWarmup(), pairs == manyPairs && pairs > 1);
      perMessage("e2e", maxName, used, sink.delivered.sum(), pairs == manyPairs && pairs > 1);
      if (pairs == 1 && !singleFixed) {
        continue;
      }

      sink.reset();
      sink.timeFromNanos = System.nanoTime() + warmup.toNanos();
      double rate = Double.parseDouble(opts.getOrDefault("e2e-rate", "5000"));
      String fixedName = "e2e-" + pairs + "-pairs-" + (int) rate;
      before = new Usage(node);
      LoadGenerator.Result fixed = measure(node, () -> generator().openLoop(fixedName, rate, 20_000, duration,
          inboundRequests(sources, "e2e-fixed" + pairs)), false);
      awaitDeliveries(fixed.okIncludingWarmup(), e2eDrainLimit());
      used = new Usage(node).since(before);
      report.statements(fixedName, pgStats.top(5));
      Histogram latency = sink.latency();
      double p99 = latency.getValueAtPercentile(99) / 1000.0;
      report.add(pairs == manyPairs, "e2e", String.format("%d pair(s), p99 inbound-to-delivery at %.0f/s offered", pairs, rate), p99, "ms", "< 100 ms", p99 < 100,
          String.format("p50 %.2f ms, max %.1f ms, %d delivered of %d acked", latency.getValueAtPercentile(50) / 1000.0,
              latency.getMaxValue() / 1000.0, sink.delivered.sum(), fixed.okIncludingWarmup()));
      exactlyOnce("e2e " + pairs + " pair(s) fixed rate", fixed.okIncludingWarmup(), false);
      perMessage("e2e", fixedName, used, sink.delivered.sum(), false);
    }
  }

  private void fanOut() throws Exception {
    section("fan-out: native events into rooms with 10 bridges each");
    sink.reset();
    List<String> rooms = new ArrayList<>();
    for (int r = 0; r < 10; r++) {
      String room = admin.room("fanout").getString("room_id");
      rooms.add(room);
      for (int b = 0; b < 10; b++) {
        admin.bridge(room, "outbound", sink.url("/fan/" + r + "/" + b));
      }
    }
    String token = nodeToken;
    long start = System.nanoTime();
    Usage before = new Usage(node);
    LoadGenerator.Result max = measure(node, () -> generator().closedLoop("fanout-native-max", connections, duration, seq -> {
      long n = seqs.incrementAndGet();
      sink.sentAtNanos.put(n, System.nanoTime());
      Buffer body = new JsonObject().put("sender", "@bench:example.org")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "fan " + n).put("seq", n)).toBuffer();
      return new LoadGenerator.Request("/v1/rooms/" + rooms.get((int) (seq % rooms.size())) + "/events",
          Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json"), body);
    }), false);
    double drained = awaitDeliveries(max.okIncludingWarmup() * 10, drainLimit());
    Usage used = new Usage(node).since(before);
    report.statements("fanout-native-max", pgStats.top(5));
    double seconds = (drained - start) / 1e9;
    double deliveries = sink.delivered.sum() / seconds;
    report.figure("fanout", "native events acked/s (10 bridges per room)", max.throughput(), "acks/s", null, null, null);
    report.headline("fanout", "deliveries/s (rooms of 10 outbound bridges)", deliveries, "deliveries/s", ">= 15,000", deliveries >= 15_000,
        String.format("%d of %d deliveries, drained %.1f s after the load started", sink.delivered.sum(), max.okIncludingWarmup() * 10, seconds));
    perMessage("fanout", "fanout-native-max", used, sink.delivered.sum(), true);
  }

  private void manyTargets() throws Exception {
    int bridges = Integer.parseInt(opts.getOrDefault("bridges", "10000"));
    int active = Integer.parseInt(opts.getOrDefault("active", "1000"));
    section(String.format("many targets: %,d bridges defined, %,d active", bridges, active));
    sink.reset();
    int rooms = bridges / 2;
    long started = System.nanoTime();
    List<JsonObject> roomList = admin.many("rooms", rooms, i -> admin.post("/v1/rooms", new JsonObject().put("name", "many-" + i)));
    List<JsonObject> inbound = admin.many("inbound bridges", rooms, i -> admin.post("/v1/admin/bridges",
        Admin.bridgeBody(roomList.get(i).getString("room_id"), "inbound", null)));
    admin.many("outbound bridges", rooms, i -> admin.post("/v1/admin/bridges",
        Admin.bridgeBody(roomList.get(i).getString("room_id"), "outbound", sink.url("/many/" + i))));
    double createSeconds = (System.nanoTime() - started) / 1e9;
    report.figure("many", "bridges defined", bridges, "bridges", null, null, String.format("created with their rooms in %.0f s", createSeconds));
    double idleHeap = node.heapUsedAfterGcMiB();
    report.figure("many", "node heap after GC, idle", idleHeap, "MiB", "< 512 MiB", Double.isNaN(idleHeap) ? null : idleHeap < 512,
        String.format("RSS %.0f MiB", node.rssMiB()));

    List<String[]> sources = new ArrayList<>();
    for (int i = 0; i < Math.min(active, rooms); i++) {
      sources.add(new String[] {inbound.get(i).getString("bridge_id"), inbound.get(i).getString("shared_secret")});
    }
    long start = System.nanoTime();
    int n = sources.size();
    LongFunction<LoadGenerator.Request> requests = inboundRequests(sources, "many");
    LoadGenerator.Result posts = measure(node, () -> new LoadGenerator(vertx, nodePort, Duration.ZERO).closedLoop("many-activate-" + n, connections,
        Duration.ofMinutes(10), seq -> seq < n ? requests.apply(seq) : null), false);
    double drained = awaitDeliveries(posts.okIncludingWarmup(), drainLimit());
    report.statements("many-activate-" + n, pgStats.top(5));
    double heap = node.heapUsedAfterGcMiB();
    report.figure("many", "node heap after GC, after " + n + " targets were active", heap, "MiB", "< 512 MiB", heap < 512,
        String.format("RSS %.0f MiB; %d deliveries to %d targets in %.1f s", node.rssMiB(), sink.delivered.sum(), n, (drained - start) / 1e9));
  }

  private void faultyEndpoints() throws Exception {
    section("faulty endpoints: 10 % of 100 targets answer 503 or hang");
    int targets = 100;
    List<String[]> sources = new ArrayList<>();
    for (int i = 0; i < targets; i++) {
      String room = admin.room("faulty").getString("room_id");
      JsonObject a = admin.bridge(room, "inbound", null);
      admin.bridge(room, "outbound", sink.url("/faulty/" + i));
      sources.add(new String[] {a.getString("bridge_id"), a.getString("shared_secret")});
    }
    double[] healthyRate = new double[2];
    for (int phase = 0; phase < 2; phase++) {
      sink.reset();
      if (phase == 1) {
        sink.behaviour = path -> {
          if (!path.startsWith("/faulty/")) {
            return Sink.Behaviour.OK;
          }
          int i = Integer.parseInt(path.substring("/faulty/".length()));
          return i < 5 ? Sink.Behaviour.FAIL : i < 10 ? Sink.Behaviour.HANG : Sink.Behaviour.OK;
        };
      }
      long start = System.nanoTime();
      String name = phase == 0 ? "faulty-baseline" : "faulty-10pct";
      LoadGenerator.Result r = measure(node, () -> generator().closedLoop(name, connections, duration, inboundRequests(sources, name)), false);
      long healthyExpected = r.okIncludingWarmup() * 90 / 100;
      double drained = awaitHealthy(healthyExpected, drainLimit());
      report.statements(name, pgStats.top(5));
      long healthy = 0;
      for (int i = 10; i < targets; i++) {
        healthy += sink.deliveredTo("/faulty/" + i);
      }
      healthyRate[phase] = healthy / ((drained - start) / 1e9);
    }
    double cost = 1 - healthyRate[1] / healthyRate[0];
    report.figure("faulty", "healthy targets' deliveries/s, all healthy", healthyRate[0], "deliveries/s", null, null, "90 targets that stay healthy");
    report.figure("faulty", "healthy targets' deliveries/s, 10 % faulty", healthyRate[1], "deliveries/s", null, null, "5 answer 503, 5 never answer");
    report.figure("faulty", "throughput the faulty cost the healthy", cost * 100, "%", "< 10 %", cost < 0.10, null);
  }

  // ---------------------------------------------------------------- helpers

  /** A scenario's title line, with the time since the harness started. */
  private void section(String title) {
    long s = (System.nanoTime() - startedNanos) / 1_000_000_000L;
    System.out.printf("== [%d:%02d] %s%n", s / 60, s % 60, title);
  }

  private String nodeToken;
  private long postmasterPid = -1;
  private Path nodeJar;

  private void startNode(String stamp) throws Exception {
    nodePort = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("RELAY_DATA_DIR", work.resolve("data-" + stamp).toString());
    env.put("RELAY_HTTP_PORT", Integer.toString(nodePort));
    // WARN unless the caller's RELAY_LOG_LEVEL says otherwise (INFO: one request line per request, to measure its cost).
    env.put("RELAY_LOG_LEVEL", System.getenv().getOrDefault("RELAY_LOG_LEVEL", "WARN"));
    env.putAll(nodeEnv);
    if (opts.containsKey("pg-url")) {
      env.put("RELAY_PG_URL", opts.get("pg-url"));
    }
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(List.of(opts.getOrDefault("node-jvm", "-XX:+UseParallelGC").split(" ")));
    // A private copy: a build of the node while it runs (target/ is shared with whoever works on the node) would
    // pull classes out from under it.
    nodeJar = work.resolve("scairelay-node-" + stamp + ".jar");
    Files.copy(repo.resolve("target/scairelay.jar"), nodeJar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    command.addAll(List.of("-jar", nodeJar.toString(), "dev"));
    section("starting the node: " + String.join(" ", command));
    node = new NodeProcess(command, env, work.resolve("node-" + stamp + ".log"));
    node.awaitLine("ScaiRelay dev node listening", 120);
    dataDir = work.resolve("data-" + stamp);
    nodeToken = adminToken(node.awaitLine("Admin token: ", 10));
    admin = new Admin(vertx, nodePort, nodeToken);
    int pgPort = embeddedPgPort();
    if (pgPort > 0) {
      postmasterPid = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
      pgStats = PgStats.embedded(pgPort, "scairelay", embeddedPgPassword());
    } else if (opts.containsKey("pg-url")) {
      pgStats = PgStats.url(opts.get("pg-url"));
    }
    if (!pgStats.available()) {
      System.out.println("!! pg_stat_statements is not available: " + pgStats.unavailableReason());
      report.figure("postgres", "pg_stat_statements", Double.NaN, "", null, null,
          "not recorded: " + pgStats.unavailableReason() + " (the node's PostgreSQL needs shared_preload_libraries=pg_stat_statements)");
    } else {
      System.out.println("  pg_stat_statements: recording the node's statements per measured run");
    }
  }

  private Path dataDir;
  /** Settings of the node, on top of those startNode sets (the metrics A/B switches metrics.enabled). */
  private final Map<String, String> nodeEnv = new HashMap<>();

  /**
   * The token of the node's "Admin token: ..." line. Its output goes to a file here, so the node prints where
   * the token is ("Admin token: in /…/admin.token (mode 600)"), not the token; a node of an earlier version
   * printed the token itself.
   */
  static String adminToken(String line) throws IOException {
    String rest = line.substring("Admin token: ".length());
    String suffix = " (mode 600)";
    if (rest.startsWith("in ") && rest.endsWith(suffix)) {
      return Files.readString(Path.of(rest.substring("in ".length(), rest.length() - suffix.length()))).trim();
    }
    return rest;
  }

  /** The embedded PostgreSQL's password: one line in the data directory's pg.password (mode 600, written by the node). */
  private String embeddedPgPassword() throws IOException {
    Path file = dataDir.resolve("pg.password");
    // A node of an earlier version let every local user in (trust) and wrote no file.
    return Files.exists(file) ? Files.readString(file).trim() : "";
  }

  private int embeddedPgPort() throws Exception {
    Path pid = dataDir.resolve("pg/postmaster.pid");
    return Files.exists(pid) ? Integer.parseInt(Files.readAllLines(pid).get(3).trim()) : -1;
  }

  private LoadGenerator generator() {
    return new LoadGenerator(vertx, nodePort, warmup);
  }

  private long wrkRequests() {
    return Long.parseLong(opts.getOrDefault("wrk-requests", "200000"));
  }

  /** The body of an inbound webhook: a unique event id (this run's id, a prefix, n) and {@code seq} n in its content. */
  private String inboundBody(String prefix, long n) {
    return inboundBody(runId, prefix, n);
  }

  /** The same for any run id (ClusterBench's too). */
  static String inboundBody(String runId, String prefix, long n) {
    return "{\"event_id\":\"" + runId + "-" + prefix + "-" + n + "\",\"sender\":{\"external_id\":\"U" + (n % 100)
        + "\",\"display_name\":\"Bench user " + (n % 100) + "\"},\"content\":{\"msgtype\":\"swp.text\",\"body\":\"hello from the benchmark, message "
        + n + "\",\"seq\":" + n + "}}";
  }

  /** Signed inbound webhooks spread over {@code bridges} (id, secret), each with a unique event id and a {@code seq} in the content. */
  private LongFunction<LoadGenerator.Request> inboundRequests(List<String[]> bridges, String prefix) {
    return seq -> {
      long n = seqs.incrementAndGet();
      String[] bridge = bridges.get((int) (seq % bridges.size()));
      Buffer body = Buffer.buffer(inboundBody(prefix, n));
      sink.sentAtNanos.put(n, System.nanoTime());
      return new LoadGenerator.Request("/v1/bridges/" + bridge[0] + "/inbound",
          Map.of("X-ScaiWave-Bridge-Signature", Signer.header(bridge[1], body), "Content-Type", "application/json"), body);
    };
  }

  /** The same requests for wrk, request k to bridge k % bridges; signed now (the node accepts timestamps within ±300 s). */
  private Wrk.Request signedInbound(List<String[]> bridges, String prefix, long k) {
    long n = seqs.incrementAndGet();
    return signedInbound(bridges.get((int) (k % bridges.size())), inboundBody(prefix, n));
  }

  /** A wrk request: {@code body} posted to the inbound webhook of {@code bridge} (id, secret), signed now. */
  static Wrk.Request signedInbound(String[] bridge, String body) {
    return new Wrk.Request("/v1/bridges/" + bridge[0] + "/inbound",
        Map.of("X-ScaiWave-Bridge-Signature", Signer.header(bridge[1], body.getBytes(StandardCharsets.UTF_8)), "Content-Type", "application/json"), body);
  }

  /**
   * The node's inbound counters summed over {@code bridges}: accepted, duplicates, signature failures, rejected
   * (paused), once they stop changing (the node adds its tally to the database every second).
   */
  private long[] stableCounters(List<String[]> bridges) throws InterruptedException {
    long[] last = counters(bridges);
    for (int i = 0; i < 15; i++) {
      Thread.sleep(1100);
      long[] now = counters(bridges);
      if (java.util.Arrays.equals(now, last)) {
        return now;
      }
      last = now;
    }
    return last;
  }

  private long[] counters(List<String[]> bridges) {
    Set<String> ids = new HashSet<>();
    bridges.forEach(b -> ids.add(b[0]));
    List<JsonObject> found = new ArrayList<>();
    if (ids.size() <= 10) {
      ids.forEach(id -> found.add(admin.getJson("/v1/admin/bridges/" + id)));
    } else {
      JsonArray all = admin.getJson("/v1/admin/bridges").getJsonArray("bridges");
      for (int i = 0; i < all.size(); i++) {
        if (ids.contains(all.getJsonObject(i).getString("bridge_id"))) {
          found.add(all.getJsonObject(i));
        }
      }
    }
    long[] sums = new long[4];
    for (JsonObject bridge : found) {
      JsonObject c = bridge.getJsonObject("counters", new JsonObject());
      sums[0] += c.getLong("inbound_accepted", 0L);
      sums[1] += c.getLong("inbound_duplicates", 0L);
      sums[2] += c.getLong("inbound_signature_failures", 0L);
      sums[3] += c.getLong("inbound_rejected_paused", 0L);
    }
    return sums;
  }

  /** A wrk run as a load run of the report (no per-second series); {@code acks} are its successful answers. */
  static LoadGenerator.Result asRun(Wrk.Result r, long acks) {
    Map<String, Long> answers = new LinkedHashMap<>();
    answers.put("2xx/3xx", r.successes());
    answers.put("non-2xx/3xx", r.statusErrors());
    answers.put("socket errors", r.socketErrors());
    answers.put("sent twice", r.recycled());
    return new LoadGenerator.Result(r.name(), 0, r.connections(), r.requests(), acks, acks, r.requests() - acks, r.seconds(), acks / r.seconds(),
        r.p50(), r.p90(), r.p99(), r.max(), List.of(), List.of(), answers);
  }

  interface Load {
    LoadGenerator.Result run() throws Exception;
  }

  /**
   * CPU seconds so far of the server under test, its PostgreSQL and the harness, at {@code nanos}; {@link #since}
   * makes the span from an earlier one ({@code nanos} is then the span's length).
   */
  private final class Usage {
    final long nanos;
    final double server;
    final double pg;
    final double harness;

    Usage(NodeProcess process) {
      this(System.nanoTime(), process.cpuSeconds(), pgCpuSeconds(), selfCpuSeconds());
    }

    private Usage(long nanos, double server, double pg, double harness) {
      this.nanos = nanos;
      this.server = server;
      this.pg = pg;
      this.harness = harness;
    }

    Usage since(Usage start) {
      return new Usage(nanos - start.nanos, server - start.server, pg - start.pg, harness - start.harness);
    }
  }

  /** The node's PostgreSQL: its embedded server precisely; with --pg-url every PostgreSQL process of this machine; else NaN. */
  private double pgCpuSeconds() {
    if (postmasterPid > 0) {
      return NodeProcess.postgresCpuSeconds(postmasterPid);
    }
    return opts.containsKey("pg-url") && node != null ? NodeProcess.postgresCpuSeconds() : Double.NaN;
  }

  /** Runs the load and reports the CPU (in cores) and RSS of {@code process} while it ran, and the node's top statements. */
  private LoadGenerator.Result measure(NodeProcess process, Load load) throws Exception {
    return measure(process, load, true);
  }

  /**
   * {@code statements}: report the node's top statements of the run right after it; false when the caller reports
   * them itself once the deliveries have drained (pg_stat_statements is reset before the run either way).
   */
  private LoadGenerator.Result measure(NodeProcess process, Load load, boolean statements) throws Exception {
    if (process == node) {
      pgStats.reset();
    }
    double cpuBefore = process.cpuSeconds();
    double pgBefore = pgCpuSeconds();
    double selfBefore = selfCpuSeconds();
    long started = System.nanoTime();
    LoadGenerator.Result result = load.run();
    double seconds = (System.nanoTime() - started) / 1e9;
    double cores = (process.cpuSeconds() - cpuBefore) / seconds;
    double pgCores = (pgCpuSeconds() - pgBefore) / seconds;
    double harnessCores = (selfCpuSeconds() - selfBefore) / seconds;
    report.run(result);
    if (process == node && statements) {
      report.statements(result.name(), pgStats.top(5));
    }
    report.figure("resources", result.name() + ": server CPU", cores, "cores", null, null,
        String.format("RSS %.0f MiB; PostgreSQL %s; generator and sink %.2f cores", process.rssMiB(), cores(pgCores), harnessCores));
    return result;
  }

  /** The resources figure of a wrk run: server, PostgreSQL, wrk and the harness, in cores. */
  private void resources(String name, NodeProcess process, Usage used, double wrkCpu) {
    double seconds = used.nanos / 1e9;
    report.figure("resources", name + ": server CPU", used.server / seconds, "cores", null, null,
        String.format("RSS %.0f MiB; PostgreSQL %s; wrk %.2f cores; harness %.2f cores", process.rssMiB(), cores(used.pg / seconds),
            wrkCpu / seconds, used.harness / seconds));
  }

  private static String cores(double cores) {
    return Double.isNaN(cores) ? "n/a" : String.format("%.2f cores", cores);
  }

  /** PostgreSQL and node CPU per delivered message over a span (load and drain). */
  private void perMessage(String scenario, String run, Usage used, long delivered, boolean headline) {
    double pgMs = delivered == 0 ? Double.NaN : used.pg * 1000 / delivered;
    double nodeMs = delivered == 0 ? Double.NaN : used.server * 1000 / delivered;
    String span = String.format("%,d delivered; over %.1f s of load and drain: PostgreSQL %.1f CPU s, node %.1f CPU s", delivered,
        used.nanos / 1e9, used.pg, used.server);
    report.add(headline, scenario, run + ": PostgreSQL CPU per delivered message", pgMs, "ms", String.format("< %.1f ms", PG_CPU_PER_MESSAGE_TARGET_MS),
        Double.isNaN(pgMs) ? null : pgMs < PG_CPU_PER_MESSAGE_TARGET_MS, span);
    report.figure(scenario, run + ": node CPU per delivered message", nodeMs, "ms", null, null,
        String.format("harness (generator, sink) %.2f ms per message", delivered == 0 ? Double.NaN : used.harness * 1000 / delivered));
  }

  /** How long a scenario waits for the deliveries of its load to arrive before it reports what did. */
  private Duration drainLimit() {
    return Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("drain-seconds", "20")));
  }

  /** The end-to-end runs wait for their whole backlog: the exactly-once check needs every delivery in. */
  private Duration e2eDrainLimit() {
    return Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("e2e-drain-seconds", "180")));
  }

  private double awaitDeliveries(long expected, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long last = -1;
    long lastChange = System.nanoTime();
    while (System.nanoTime() < deadline && sink.delivered.sum() < expected) {
      Thread.sleep(20);
      long now = sink.delivered.sum();
      if (now != last) {
        last = now;
        lastChange = System.nanoTime();
      }
    }
    if (sink.delivered.sum() < expected) {
      System.out.printf("  !! only %d of %d deliveries arrived within %s%n", sink.delivered.sum(), expected, timeout);
    }
    return lastChange;
  }

  private double awaitHealthy(long expected, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastChange = System.nanoTime();
    long last = -1;
    while (System.nanoTime() < deadline) {
      long healthy = 0;
      for (int i = 10; i < 100; i++) {
        healthy += sink.deliveredTo("/faulty/" + i);
      }
      if (healthy != last) {
        last = healthy;
        lastChange = System.nanoTime();
      }
      if (healthy >= expected) {
        break;
      }
      Thread.sleep(20);
    }
    return lastChange;
  }

  private void exactlyOnce(String what, long acked, boolean headline) {
    long distinct = sink.arrivals.size();
    long total = sink.arrivals.values().stream().mapToLong(Integer::longValue).sum();
    boolean drained = distinct >= acked;
    boolean exact = distinct == acked && total == distinct;
    report.add(headline, "e2e", what + ": every acked event arrived exactly once", exact ? 1 : 0, exact ? "yes" : drained ? "NO" : "not drained",
        "exactly once", exact, String.format("%d acked, %d distinct arrived, %d duplicates%s", acked, distinct, total - distinct,
            drained ? "" : " (the backlog had not drained when the limit passed: --e2e-drain-seconds)"));
  }

  /** The node's scratch data directory: gone after the run unless --keep-data=true. */
  static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static double selfCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  private static String ratio(double value, Double ceiling, String name) {
    return ceiling == null || Double.isNaN(ceiling) ? "" : String.format("%.0f %% of the %s", 100 * value / ceiling, name);
  }

  private String benchJar() {
    return repo.resolve("benchmarks/target/scairelay-bench.jar").toString();
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
