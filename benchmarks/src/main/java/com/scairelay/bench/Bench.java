package com.scairelay.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Measures a ScaiRelay node on this machine: starts it (dev mode, private PostgreSQL, or
 * {@code --pg-url}), plays the foreign systems and endpoints, runs the scenarios of benchmarks/README.md,
 * and writes the figures to {@code benchmarks/results/<date>/}. Nothing here asserts a number.
 */
public final class Bench {
  private final Map<String, String> opts;
  private final Path repo;
  private final Path work;
  private final Report report;
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final Duration duration;
  private final Duration warmup;
  private final int connections;
  private Sink sink;
  private NodeProcess node;
  private Admin admin;
  private int nodePort;
  private final AtomicLong seqs = new AtomicLong();

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
    Set<String> scenarios = new LinkedHashSet<>(List.of(opts.getOrDefault("scenarios", "ceilings,inbound,e2e,fanout,many,faulty").split(",")));
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm'Z'"));
    Path out = repo.resolve(opts.getOrDefault("out", "benchmarks/results")).resolve(stamp);
    sink = new Sink(vertx);
    try {
      if (scenarios.contains("ceilings")) {
        httpCeiling();
      }
      startNode(stamp);
      if (scenarios.contains("ceilings")) {
        pgCeiling();
      }
      if (scenarios.contains("inbound")) {
        inbound();
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
      sink.close();
      report.write(out);
      Files.writeString(out.getParent().resolve("LATEST.md"), "Latest run: [" + stamp + "](" + stamp + "/results.md)\n");
      System.out.println("results written to " + out);
    }
  }

  // ---------------------------------------------------------------- ceilings

  private double httpCeiling = Double.NaN;
  private Map<Integer, Double> pgCeiling = Map.of();

  private void httpCeiling() throws Exception {
    System.out.println("== HTTP ceiling: a bare Vert.x server verifying and parsing the same signed POSTs");
    int port = freePort();
    String secret = "srb_ceiling_secret";
    try (NodeProcess noop = new NodeProcess(List.of(java(), "-cp", benchJar(), NoopServer.class.getName(), Integer.toString(port), secret),
        Map.of(), work.resolve("noop.log"))) {
      noop.awaitLine("noop server listening", 60);
      // The first run of the generator also warms up its own JIT: give it longer.
      Duration generatorWarmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("ceiling-warmup", "10")));
      LoadGenerator.Result r = measure(noop, () -> new LoadGenerator(vertx, port, generatorWarmup).closedLoop("http-ceiling", connections, duration,
          inboundRequests(List.<String[]>of(new String[] {"brg_ceiling", secret}), "ceiling")));
      httpCeiling = r.throughput();
      report.figure("ceilings", "HTTP ceiling (verify + parse + 202)", r.throughput(), "req/s", null, null,
          String.format("p99 %.2f ms", r.p99()));
    }
  }

  private void pgCeiling() throws Exception {
    System.out.println("== PostgreSQL ceiling: pgbench writing the inbound write set");
    int port = embeddedPgPort();
    if (port <= 0) {
      report.figure("ceilings", "PostgreSQL ceiling", Double.NaN, "", null, null, "skipped: not on the embedded PostgreSQL");
      return;
    }
    pgCeiling = new PgCeiling(port, work).measure(List.of(1, 64, 256), Integer.parseInt(opts.getOrDefault("pg-seconds", "4")), 4);
    pgCeiling.forEach((batch, rate) -> report.figure("ceilings", "PostgreSQL ceiling, " + batch + " per transaction", rate,
        "write sets/s", null, null, "dedupe + event + outbox row"));
  }

  // ---------------------------------------------------------------- scenarios

  private void inbound() throws Exception {
    System.out.println("== inbound: signed POSTs, durable 202s");
    String room = admin.room("inbound").getString("room_id");
    JsonObject one = admin.bridge(room, "inbound", null);
    List<String[]> single = List.<String[]>of(new String[] {one.getString("bridge_id"), one.getString("shared_secret")});
    Duration nodeWarmup = Duration.ofSeconds(Integer.parseInt(opts.getOrDefault("node-warmup", "10")));
    System.out.println("  warming up the node's JIT for " + nodeWarmup.toSeconds() + " s (not measured)");
    new LoadGenerator(vertx, nodePort, nodeWarmup).closedLoop("node-warm-up", connections, Duration.ofSeconds(1), inboundRequests(single, "warm"));
    LoadGenerator.Result max = measure(node, () -> generator().closedLoop("inbound-1-bridge-max", connections, duration, inboundRequests(single, "one")));
    report.figure("inbound", "1 bridge, max rate, durable acks", max.throughput(), "acks/s", ">= 20,000", max.throughput() >= 20_000,
        ratio(max.throughput(), httpCeiling, "HTTP ceiling") + "; " + ratio(max.throughput(), pgCeiling.get(64), "PG ceiling at 64"));

    List<String[]> many = new ArrayList<>();
    List<JsonObject> rooms = admin.many("rooms", 10, i -> admin.post("/v1/rooms", new JsonObject().put("name", "inbound-" + i)));
    for (JsonObject b : admin.many("bridges", 1000, i -> admin.post("/v1/admin/bridges",
        Admin.bridgeBody(rooms.get(i % 10).getString("room_id"), "inbound", null)))) {
      many.add(new String[] {b.getString("bridge_id"), b.getString("shared_secret")});
    }
    LoadGenerator.Result spread = measure(node, () -> generator().closedLoop("inbound-1000-bridges-max", connections, duration, inboundRequests(many, "many")));
    report.figure("inbound", "1,000 bridges, max rate, durable acks", spread.throughput(), "acks/s", ">= 20,000", spread.throughput() >= 20_000,
        ratio(spread.throughput(), httpCeiling, "HTTP ceiling"));

    double rate = Double.parseDouble(opts.getOrDefault("rate", "10000"));
    LoadGenerator.Result fixed = measure(node, () -> generator().openLoop("inbound-fixed-" + (int) rate, rate, 20_000, duration, inboundRequests(many, "fixed")));
    report.figure("inbound", String.format("p99 ack latency at %.0f/s offered", rate), fixed.p99(), "ms", "< 20 ms", fixed.p99() < 20,
        String.format("achieved %.0f/s, p50 %.2f ms, errors %d", fixed.throughput(), fixed.p50(), fixed.errors()));
  }

  private void endToEnd() throws Exception {
    System.out.println("== relay end-to-end: inbound on bridge A, delivered to bridge B's sink");
    for (int pairs : new int[] {1, Integer.parseInt(opts.getOrDefault("e2e-pairs", "20"))}) {
      List<String[]> sources = new ArrayList<>();
      for (int i = 0; i < pairs; i++) {
        String room = admin.room("e2e").getString("room_id");
        JsonObject a = admin.bridge(room, "inbound", null);
        admin.bridge(room, "outbound", sink.url("/e2e/" + pairs + "/" + i));
        sources.add(new String[] {a.getString("bridge_id"), a.getString("shared_secret")});
      }
      sink.reset();
      long start = System.nanoTime();
      LoadGenerator.Result max = measure(node, () -> generator().closedLoop("e2e-" + pairs + "-pairs-max", connections, duration,
          inboundRequests(sources, "e2e" + pairs)));
      double drained = awaitDeliveries(max.okIncludingWarmup(), e2eDrainLimit());
      double seconds = (drained - start) / 1e9;
      double deliveredPerSecond = sink.delivered.sum() / seconds;
      report.figure("e2e", pairs + " bridge pair(s), delivered/s at max inbound", deliveredPerSecond, "deliveries/s", ">= 15,000",
          deliveredPerSecond >= 15_000, String.format("%d acked (with warm-up), %d delivered, drained %.1f s after the load started",
              max.okIncludingWarmup(), sink.delivered.sum(), seconds));
      exactlyOnce("e2e " + pairs + " pair(s)", max.okIncludingWarmup());

      sink.reset();
      sink.timeFromNanos = System.nanoTime() + warmup.toNanos();
      double rate = Double.parseDouble(opts.getOrDefault("e2e-rate", "5000"));
      LoadGenerator.Result fixed = measure(node, () -> generator().openLoop("e2e-" + pairs + "-pairs-" + (int) rate, rate, 20_000, duration,
          inboundRequests(sources, "e2e-fixed" + pairs)));
      awaitDeliveries(fixed.okIncludingWarmup(), e2eDrainLimit());
      Histogram latency = sink.latency();
      double p99 = latency.getValueAtPercentile(99) / 1000.0;
      report.figure("e2e", String.format("%d pair(s), p99 inbound-to-delivery at %.0f/s offered", pairs, rate), p99, "ms", "< 100 ms", p99 < 100,
          String.format("p50 %.2f ms, max %.1f ms, %d delivered of %d acked", latency.getValueAtPercentile(50) / 1000.0,
              latency.getMaxValue() / 1000.0, sink.delivered.sum(), fixed.okIncludingWarmup()));
      exactlyOnce("e2e " + pairs + " pair(s) fixed rate", fixed.okIncludingWarmup());
    }
  }

  private void fanOut() throws Exception {
    System.out.println("== fan-out: native events into rooms with 10 bridges each");
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
    LoadGenerator.Result max = measure(node, () -> generator().closedLoop("fanout-native-max", connections, duration, seq -> {
      long n = seqs.incrementAndGet();
      sink.sentAtNanos.put(n, System.nanoTime());
      Buffer body = new JsonObject().put("sender", "@bench:example.org")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "fan " + n).put("seq", n)).toBuffer();
      return new LoadGenerator.Request("/v1/rooms/" + rooms.get((int) (seq % rooms.size())) + "/events",
          Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json"), body);
    }));
    double drained = awaitDeliveries(max.okIncludingWarmup() * 10, drainLimit());
    double seconds = (drained - start) / 1e9;
    report.figure("fanout", "native events acked/s (10 bridges per room)", max.throughput(), "acks/s", null, null, null);
    report.figure("fanout", "deliveries/s", sink.delivered.sum() / seconds, "deliveries/s", null, null,
        String.format("%d of %d deliveries, drained %.1f s after the load started", sink.delivered.sum(), max.okIncludingWarmup() * 10, seconds));
  }

  private void manyTargets() throws Exception {
    int bridges = Integer.parseInt(opts.getOrDefault("bridges", "20000"));
    int active = Integer.parseInt(opts.getOrDefault("active", "2000"));
    System.out.printf("== many targets: %,d bridges defined, %,d active%n", bridges, active);
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
    report.figure("many", "node heap after GC, idle", node.heapUsedAfterGcMiB(), "MiB", "< 512 MiB", null, String.format("RSS %.0f MiB", node.rssMiB()));

    List<String[]> sources = new ArrayList<>();
    for (int i = 0; i < Math.min(active, rooms); i++) {
      sources.add(new String[] {inbound.get(i).getString("bridge_id"), inbound.get(i).getString("shared_secret")});
    }
    long start = System.nanoTime();
    int n = sources.size();
    LoadGenerator.Result posts = measure(node, () -> new LoadGenerator(vertx, nodePort, Duration.ZERO).closedLoop("many-activate-" + n, connections, Duration.ofDays(1), seq -> seq < n
        ? inboundRequests(sources, "many").apply(seq) : null));
    double drained = awaitDeliveries(posts.okIncludingWarmup(), drainLimit());
    double heap = node.heapUsedAfterGcMiB();
    report.figure("many", "node heap after GC, after " + n + " targets were active", heap, "MiB", "< 512 MiB", heap < 512,
        String.format("RSS %.0f MiB; %d deliveries to %d targets in %.1f s", node.rssMiB(), sink.delivered.sum(), n, (drained - start) / 1e9));
  }

  private void faultyEndpoints() throws Exception {
    System.out.println("== faulty endpoints: 10 % of 100 targets answer 503 or hang");
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
      LoadGenerator.Result r = measure(node, () -> generator().closedLoop(name, connections, duration, inboundRequests(sources, name)));
      long healthyExpected = r.okIncludingWarmup() * 90 / 100;
      double drained = awaitHealthy(healthyExpected, drainLimit());
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

  private String nodeToken;

  private void startNode(String stamp) throws Exception {
    nodePort = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("RELAY_DATA_DIR", work.resolve("data-" + stamp).toString());
    env.put("RELAY_HTTP_PORT", Integer.toString(nodePort));
    env.put("RELAY_LOG_LEVEL", "WARN");
    if (opts.containsKey("pg-url")) {
      env.put("RELAY_PG_URL", opts.get("pg-url"));
    }
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(List.of(opts.getOrDefault("node-jvm", "-XX:+UseParallelGC").split(" ")));
    command.addAll(List.of("-jar", repo.resolve("target/scairelay.jar").toString(), "dev"));
    System.out.println("== starting the node: " + String.join(" ", command));
    node = new NodeProcess(command, env, work.resolve("node-" + stamp + ".log"));
    node.awaitLine("ScaiRelay dev node listening", 120);
    nodeToken = node.awaitLine("Admin token: ", 10).substring("Admin token: ".length());
    admin = new Admin(vertx, nodePort, nodeToken);
    dataDir = work.resolve("data-" + stamp);
  }

  private Path dataDir;

  private int embeddedPgPort() throws Exception {
    Path pid = dataDir.resolve("pg/postmaster.pid");
    return Files.exists(pid) ? Integer.parseInt(Files.readAllLines(pid).get(3).trim()) : -1;
  }

  private LoadGenerator generator() {
    return new LoadGenerator(vertx, nodePort, warmup);
  }

  /** Signed inbound webhooks spread over {@code bridges} (id, secret), each with a unique event id and a {@code seq} in the content. */
  private LongFunction<LoadGenerator.Request> inboundRequests(List<String[]> bridges, String prefix) {
    return seq -> {
      long n = seqs.incrementAndGet();
      String[] bridge = bridges.get((int) (seq % bridges.size()));
      Buffer body = Buffer.buffer("{\"event_id\":\"" + prefix + "-" + n + "\",\"sender\":{\"external_id\":\"U" + (n % 100)
          + "\",\"display_name\":\"Bench user " + (n % 100) + "\"},\"content\":{\"msgtype\":\"swp.text\",\"body\":\"hello from the benchmark, message "
          + n + "\",\"seq\":" + n + "}}");
      sink.sentAtNanos.put(n, System.nanoTime());
      return new LoadGenerator.Request("/v1/bridges/" + bridge[0] + "/inbound",
          Map.of("X-ScaiWave-Bridge-Signature", Signer.header(bridge[1], body), "Content-Type", "application/json"), body);
    };
  }

  interface Load {
    LoadGenerator.Result run() throws Exception;
  }

  /** Runs the load and reports the CPU (in cores) and RSS of {@code process} while it ran. */
  private LoadGenerator.Result measure(NodeProcess process, Load load) throws Exception {
    double cpuBefore = process.cpuSeconds();
    double pgBefore = NodeProcess.postgresCpuSeconds();
    double selfBefore = selfCpuSeconds();
    long started = System.nanoTime();
    LoadGenerator.Result result = load.run();
    double seconds = (System.nanoTime() - started) / 1e9;
    double cores = (process.cpuSeconds() - cpuBefore) / seconds;
    double pgCores = (NodeProcess.postgresCpuSeconds() - pgBefore) / seconds;
    double harnessCores = (selfCpuSeconds() - selfBefore) / seconds;
    report.run(result);
    report.figure("resources", result.name() + ": server CPU", cores, "cores", null, null,
        String.format("RSS %.0f MiB; PostgreSQL %.2f cores; generator and sink %.2f cores", process.rssMiB(), pgCores, harnessCores));
    return result;
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

  private void exactlyOnce(String what, long acked) {
    long distinct = sink.arrivals.size();
    long total = sink.arrivals.values().stream().mapToLong(Integer::longValue).sum();
    boolean drained = distinct >= acked;
    boolean exact = distinct == acked && total == distinct;
    report.figure("e2e", what + ": every acked event arrived exactly once", exact ? 1 : 0, exact ? "yes" : drained ? "NO" : "not drained",
        null, null, String.format("%d acked, %d distinct arrived, %d duplicates%s", acked, distinct, total - distinct,
            drained ? "" : " (the backlog had not drained when the limit passed: --e2e-drain-seconds)"));
  }

  /** The node's scratch data directory: gone after the run unless --keep-data=true. */
  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static double selfCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  private static String ratio(double value, Double ceiling, String name) {
    return ceiling == null || Double.isNaN(ceiling) ? "" : String.format("%.0f %% of the %s", 100 * value / ceiling, name);
  }

  private String benchJar() {
    return repo.resolve("benchmarks/target/scairelay-bench.jar").toString();
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
