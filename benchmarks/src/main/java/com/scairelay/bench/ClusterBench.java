package com.scairelay.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster benchmark ({@code benchmarks/cluster.sh}): one embedded PostgreSQL ({@code scairelay.jar postgres}),
 * then (1) one node with and without {@code --cluster}, alternating, on the same wrk workloads as {@link Bench}'s;
 * (2) three {@code run --cluster} nodes under a steady load of room events, the owner of the most targets killed
 * with SIGKILL and restarted, several times: failover time, messages lost, sent twice and out of order, held
 * against what PostgreSQL stored. Writes {@code benchmarks/results/<date>-cluster/}. Nothing here asserts a number.
 */
public final class ClusterBench {
  static final double RATIO_TARGET = 0.9;
  static final double FAILOVER_TARGET_SECONDS = 10;
  private static final Pattern ROOM_ID = Pattern.compile("[A-Za-z0-9_-]+");
  private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.vertx.core.net.impl.ConnectionBase");

  private final Map<String, String> opts;
  private final boolean quick;
  private final Path repo;
  private final Path work;
  private final Path out;
  private final Path pidFile;
  private final Report report;
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final HttpClient probe;
  private final long startedNanos = System.nanoTime();
  private final String runId = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000, 36)
      + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36), 36);
  private final String adminToken;
  private final String masterKey;
  private final AtomicLong seqs = new AtomicLong();
  /** Every process started here that may still run: stopped at the end, or by the shutdown hook. */
  private final List<NodeProcess> running = new CopyOnWriteArrayList<>();
  /** Set by the shutdown hook: nothing is started any more. */
  private volatile boolean stopping;
  private Path nodeJar;
  private NodeProcess postgres;
  private int pgPort;
  private String pgPassword;
  private String pgUrl;
  private long postmasterPid = -1;
  private PgStats pgStats = PgStats.none("PostgreSQL was not started");
  private boolean pgStatsOpened;
  private Sink sink;
  private Wrk wrk;

  private ClusterBench(Map<String, String> opts, boolean quick, String command) throws IOException {
    this.opts = opts;
    this.quick = quick;
    this.repo = Path.of(opts.getOrDefault("repo", ".")).toAbsolutePath().normalize();
    String stamp = opts.getOrDefault("stamp", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm'Z'")));
    this.work = repo.resolve("benchmarks/work/cluster-" + stamp);
    this.out = repo.resolve(opts.getOrDefault("out", "benchmarks/results")).resolve(stamp + "-cluster");
    this.pidFile = work.resolve("pids");
    this.report = new Report(Machine.describe(), command, "ScaiRelay cluster benchmark run", "Verdicts", "verdict_row",
        "everything runs on this one machine: the nodes, their one PostgreSQL, wrk, the sink and the load share its "
            + Runtime.getRuntime().availableProcessors() + " cores, so more nodes add no speed here; the three-node scenario measures "
            + "failover and delivery guarantees, not scale-out. `…-inbound-max` and `…-relay-…` runs are driven by wrk (C, one thread).",
        false);
    SecureRandom random = new SecureRandom();
    byte[] token = new byte[24];
    random.nextBytes(token);
    this.adminToken = "bench_" + HexFormat.of().formatHex(token);
    byte[] key = new byte[32];
    random.nextBytes(key);
    this.masterKey = Base64.getEncoder().encodeToString(key);
    this.probe = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setConnectTimeout(1_000).setKeepAlive(false),
        new PoolOptions().setHttp1MaxSize(8));
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    // Connections reset by a killed node are expected here, not worth a SEVERE line each.
    QUIET.setLevel(java.util.logging.Level.OFF);
    Map<String, String> opts = new HashMap<>();
    boolean quick = false;
    List<String> shown = new ArrayList<>();
    for (String arg : args) {
      if (arg.equals("--quick")) {
        quick = true;
      } else if (arg.startsWith("--") && arg.contains("=")) {
        opts.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
      } else {
        throw new IllegalArgumentException("arguments look like --name=value (or --quick), got " + arg);
      }
      if (!arg.startsWith("--repo=") && !arg.startsWith("--stamp=")) {
        shown.add(arg);
      }
    }
    ClusterBench bench = new ClusterBench(opts, quick, ("benchmarks/cluster.sh " + String.join(" ", shown)).trim());
    Thread hook = new Thread(() -> {
      bench.stopping = true;
      bench.stopEverything();
    }, "cluster-bench-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    int status = 0;
    try {
      bench.runAll();
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.exit(status);
  }

  // ---------------------------------------------------------------- options

  private int opt(String name, int full, int quickValue) {
    return Integer.parseInt(opts.getOrDefault(name, Integer.toString(quick ? quickValue : full)));
  }

  private String opt(String name, String value) {
    return opts.getOrDefault(name, value);
  }

  private void runAll() throws Exception {
    Set<String> scenarios = new LinkedHashSet<>(List.of(opt("scenarios", "ab,failover").split(",")));
    Files.createDirectories(work);
    section("ScaiRelay cluster benchmark" + (quick ? " (--quick: short runs, not for the record)" : "") + "; work directory " + work);
    nodeJar = work.resolve("scairelay.jar");
    // A private copy: a build of the node while it runs (target/ may be rebuilt meanwhile) would pull classes out from under it.
    Files.copy(repo.resolve("target/scairelay.jar"), nodeJar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    sink = new Sink(vertx);
    Throwable failure = null;
    try {
      startPostgres();
      if (scenarios.contains("ab")) {
        singleVersusClustered();
      }
      if (scenarios.contains("failover")) {
        failover();
      }
    } catch (Throwable e) {
      failure = e;
      System.out.println("!! the benchmark stopped: " + e);
      report.figure("error", "the benchmark stopped early", Double.NaN, "", null, null, e.toString().replace('\n', ' '));
    } finally {
      section("stopping every process started here");
      stopEverything();
      if (!opts.containsKey("keep-data")) {
        deleteData();
      }
      sink.close();
      long seconds = (System.nanoTime() - startedNanos) / 1_000_000_000L;
      String elapsed = String.format("%d min %02d s (harness, without the build)", seconds / 60, seconds % 60);
      report.elapsed(elapsed);
      report.printHeadlines();
      report.write(out);
      System.out.println("results written to " + out + " (logs of every process in " + work + ")");
      System.out.println("elapsed: " + elapsed);
    }
    if (failure != null) {
      throw new IllegalStateException("the cluster benchmark failed", failure);
    }
  }

  // ---------------------------------------------------------------- PostgreSQL and nodes

  private void startPostgres() throws Exception {
    Path dir = work.resolve("pg");
    pgPort = Bench.freePort();
    section("starting PostgreSQL: java -jar scairelay.jar postgres (RELAY_DATA_DIR=" + dir + ", RELAY_PG_EMBEDDED_PORT=" + pgPort + ")");
    Map<String, String> env = new HashMap<>();
    env.put("RELAY_DATA_DIR", dir.toString());
    env.put("RELAY_PG_EMBEDDED_PORT", Integer.toString(pgPort));
    env.put("RELAY_LOG_LEVEL", "WARN");
    postgres = start("postgres", List.of(Bench.java(), "-Xmx256m", "-jar", nodeJar.toString(), "postgres"), env);
    String line = postgres.awaitLine("PostgreSQL for ScaiRelay nodes: ", 120);
    progress(line);
    Matcher m = Pattern.compile("127\\.0\\.0\\.1:(\\d+)/").matcher(line);
    if (!m.find() || Integer.parseInt(m.group(1)) != pgPort) {
      throw new IllegalStateException("PostgreSQL is not on the port asked for (" + pgPort + "): " + line);
    }
    pgPassword = Files.readString(dir.resolve("pg.password")).trim();
    pgUrl = "postgresql://postgres:" + URLEncoder.encode(pgPassword, StandardCharsets.UTF_8).replace("+", "%20") + "@127.0.0.1:" + pgPort + "/scairelay";
    postmasterPid = Long.parseLong(Files.readAllLines(dir.resolve("pg/postmaster.pid")).get(0).trim());
    recordPid(postmasterPid, "postmaster");
  }

  /** pg_stat_statements of the nodes' database, once a node has made it (migrations); says so once if it is not there. */
  private void openPgStats() {
    if (pgStatsOpened) {
      return;
    }
    pgStatsOpened = true;
    pgStats = PgStats.embedded(pgPort, "scairelay", pgPassword);
    if (!pgStats.available()) {
      System.out.println("!! pg_stat_statements is not available: " + pgStats.unavailableReason());
    }
  }

  /** A process of this run: its output in {@code <work>/<name>.log}, its pid in {@code <work>/pids} (cluster.sh's safety net). */
  private synchronized NodeProcess start(String name, List<String> command, Map<String, String> env) throws IOException {
    if (stopping) {
      throw new IllegalStateException("the harness is stopping: " + name + " is not started");
    }
    NodeProcess p = new NodeProcess(command, env, work.resolve(name + ".log"));
    running.add(p);
    recordPid(p.pid(), name);
    return p;
  }

  private void recordPid(long pid, String what) throws IOException {
    Files.writeString(pidFile, pid + "\t" + what + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** {@code java -jar scairelay.jar run [--cluster]} on the benchmark's PostgreSQL. */
  private NodeProcess startNode(String name, int httpPort, ClusterPlace cluster, List<String> jvm, String logLevel) throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("RELAY_PG_URL", pgUrl);
    env.put("RELAY_HTTP_PORT", Integer.toString(httpPort));
    env.put("RELAY_ADMIN_TOKEN", adminToken);
    env.put("RELAY_SECRETS_MASTER_KEY", masterKey);
    env.put("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    env.put("RELAY_DATA_DIR", work.resolve("data-" + name).toString());
    env.put("RELAY_LOG_LEVEL", logLevel);
    List<String> command = new ArrayList<>(List.of(Bench.java()));
    for (String o : opt("node-jvm", "-XX:+UseParallelGC").split(" ")) {
      if (!o.isBlank()) {
        command.add(o);
      }
    }
    command.addAll(jvm);
    command.addAll(List.of("-jar", nodeJar.toString(), "run"));
    if (cluster != null) {
      command.add("--cluster");
      env.put("RELAY_CLUSTER_NAME", cluster.name());
      env.put("RELAY_CLUSTER_HOST", "127.0.0.1");
      env.put("RELAY_CLUSTER_PORT", Integer.toString(cluster.port()));
      env.put("RELAY_CLUSTER_MEMBERS", String.join(",", cluster.members().stream().map(p -> "127.0.0.1:" + p).toList()));
    }
    return start(name, command, env);
  }

  record ClusterPlace(String name, int port, List<Integer> members) {
  }

  /** GET on 127.0.0.1:{@code port}: [status, body]; status -1 when nothing answered within 2 s. */
  private Object[] get(int port, String path) {
    try {
      return probe.request(new RequestOptions().setPort(port).setURI(path).setMethod(HttpMethod.GET).setIdleTimeout(2_000)
              .putHeader("Authorization", "Bearer " + adminToken))
          .compose(req -> req.send().compose(resp -> resp.body().map(b -> new Object[] {resp.statusCode(), b.toString()})))
          .await(3, TimeUnit.SECONDS);
    } catch (Exception e) {
      return new Object[] {-1, e.toString()};
    }
  }

  /** Waits until the node answers /health/ready 200 seeing {@code members} members; answers its node id. */
  private String awaitReady(NodeProcess node, int port, int members, long deadlineNanos) throws InterruptedException {
    Object[] last = null;
    while (System.nanoTime() < deadlineNanos) {
      if (!node.process.isAlive()) {
        throw new IllegalStateException("the node on port " + port + " exited with " + node.process.exitValue() + ":\n" + tail(node));
      }
      last = get(port, "/health/ready");
      if ((int) last[0] == 200) {
        JsonObject cluster = new JsonObject((String) last[1]).getJsonObject("cluster", new JsonObject());
        if (cluster.getInteger("members", 0) == members) {
          return cluster.getString("node_id");
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the node on port " + port + " was not ready with " + members + " members in time; last answer "
        + (last == null ? "none" : last[0] + " " + last[1]) + "\n" + tail(node));
  }

  private static String tail(NodeProcess node) {
    List<String> lines = node.lines;
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  /** SIGTERM, then SIGKILL after {@code seconds}. */
  private void stop(NodeProcess p, int seconds) throws InterruptedException {
    p.process.destroy();
    if (!p.process.waitFor(seconds, TimeUnit.SECONDS)) {
      System.out.println("  !! pid " + p.pid() + " did not stop within " + seconds + " s of SIGTERM: SIGKILL");
      p.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    running.remove(p);
  }

  /** Stops every process started here (nodes first, PostgreSQL last) and the postmaster should its wrapper have left it. */
  private synchronized void stopEverything() {
    try {
      List<NodeProcess> nodes = new ArrayList<>(running);
      nodes.remove(postgres);
      nodes.forEach(p -> p.process.destroy());
      for (NodeProcess p : nodes) {
        stop(p, 30);
      }
      if (postgres != null && running.contains(postgres)) {
        stop(postgres, 60);
      }
      if (postmasterPid > 0) {
        var postmaster = ProcessHandle.of(postmasterPid);
        if (postmaster.isPresent() && postmaster.get().isAlive()) {
          // pg_ctl stop returns once the pid file is gone, a moment before the process is.
          try {
            postmaster.get().onExit().get(10, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException stillThere) {
            // stopped below
          }
        }
        if (postmaster.isPresent() && postmaster.get().isAlive()) {
          System.out.println("  !! the postmaster " + postmasterPid + " outlived its wrapper: SIGTERM");
          postmaster.get().destroy();
          postmaster.get().onExit().get(30, TimeUnit.SECONDS);
        }
      }
    } catch (Exception e) {
      System.out.println("  !! stopping: " + e);
    }
  }

  private void deleteData() {
    try (var dirs = Files.list(work)) {
      for (Path p : dirs.toList()) {
        String n = p.getFileName().toString();
        if (n.equals("pg") || n.startsWith("data-")) {
          Bench.deleteTree(p);
        }
      }
      Files.deleteIfExists(nodeJar);
    } catch (IOException e) {
      System.out.println("  !! deleting the data directories: " + e);
    }
  }

  // ---------------------------------------------------------------- 1: one node, single and clustered

  record AbRun(int order, String name, boolean clustered, double inbound, double inboundP99, double nodeCores, double pgCores,
               double relay, double relayInbound, long relayDelivered, long relayExpected, long relayDuplicates, String note) {
    JsonObject json() {
      return new JsonObject().put("order", order).put("name", name).put("clustered", clustered).put("inbound_acks_per_s", nan(inbound))
          .put("inbound_p99_ms", nan(inboundP99)).put("node_cores", nan(nodeCores)).put("pg_cores", nan(pgCores))
          .put("relay_delivered_per_s", nan(relay)).put("relay_inbound_acks_per_s", nan(relayInbound)).put("relay_delivered", relayDelivered).put("relay_expected", relayExpected)
          .put("relay_duplicates", relayDuplicates).put("note", note);
    }
  }

  private void singleVersusClustered() throws Exception {
    int runs = opt("ab-runs", 2, 2);
    section(String.format("one node, run and run --cluster (a one-member cluster), alternating, %d runs each", runs));
    if (!Wrk.available()) {
      System.out.println("!! wrk is not installed (apt-get install wrk): the single/clustered comparison is skipped");
      report.figure("single vs cluster", "wrk runs", Double.NaN, "", null, null, "skipped: wrk is not installed (Debian package wrk)");
      return;
    }
    wrk = new Wrk(work, opt("wrk-threads", 1, 1), opt("wrk-connections", 64, 64));
    List<AbRun> all = new ArrayList<>();
    int order = 0;
    for (int i = 1; i <= runs; i++) {
      for (boolean clustered : new boolean[] {false, true}) {
        order++;
        all.add(abRun(order, 2 * runs, clustered, i));
      }
    }
    JsonArray json = new JsonArray();
    StringBuilder md = new StringBuilder("Each run is a fresh node process on the same PostgreSQL, in this order (so drift of the machine "
        + "hits both variants). Inbound: wrk at max rate, pre-signed unique requests to one inbound bridge, acks = 2xx minus the node's "
        + "duplicates. Relay: wrk at max rate to the inbound bridges of the bridge pairs, each delivered to its pair's outbound bridge "
        + "(the sink); delivered/s from the first delivery to the last.\n\n"
        + "| # | run | inbound acks/s | inbound p99 ms | node CPU (cores) | PostgreSQL CPU (cores) | relay delivered/s | relay: inbound acks/s "
        + "| relay delivered / acked | note |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (AbRun r : all) {
      json.add(r.json());
      md.append(String.format("| %d | %s | %s | %.2f | %.2f | %.2f | %s | %s | %d / %d | %s |%n", r.order(), r.name(), Report.format(r.inbound()),
          r.inboundP99(), r.nodeCores(), r.pgCores(), Report.format(r.relay()), Report.format(r.relayInbound()), r.relayDelivered(), r.relayExpected(),
          r.note()));
    }
    ratio("inbound max rate (wrk, 1 bridge)", all, AbRun::inbound, "acks/s", true);
    if (all.stream().anyMatch(r -> !Double.isNaN(r.relay()))) {
      ratio(String.format("relay rate (wrk, %d bridge pairs)", opt("relay-pairs", 100, 20)), all, AbRun::relay, "deliveries/s", true);
      ratio(String.format("relay run's inbound acks/s (wrk, %d bridge pairs)", opt("relay-pairs", 100, 20)), all, AbRun::relayInbound, "acks/s", false);
    }
    report.section("single_vs_clustered", "One node: run and run --cluster", md.toString(), json);
  }

  /** The medians of each variant and clustered / single; {@code verdict}: held against the target (a verdict row), else a figure. */
  private void ratio(String what, List<AbRun> all, java.util.function.ToDoubleFunction<AbRun> value, String unit, boolean verdict) {
    List<Double> single = all.stream().filter(r -> !r.clustered()).map(value::applyAsDouble).toList();
    List<Double> clustered = all.stream().filter(AbRun::clustered).map(value::applyAsDouble).toList();
    double s = median(single);
    double c = median(clustered);
    double ratio = c / s;
    report.figure("single vs cluster", what + ", single node (median)", s, unit, null, null, "runs: " + list(single));
    report.figure("single vs cluster", what + ", one-member cluster (median)", c, unit, null, null, "runs: " + list(clustered));
    report.add(verdict, "single vs cluster", what + ": clustered / single (medians)", ratio, "x", verdict ? String.format(">= %.2f", RATIO_TARGET) : null,
        !verdict || Double.isNaN(ratio) ? null : ratio >= RATIO_TARGET, String.format("%s vs %s %s; single %s, clustered %s", Report.format(c), Report.format(s),
            unit, list(single), list(clustered)));
  }

  private AbRun abRun(int order, int total, boolean clustered, int n) throws Exception {
    String name = (clustered ? "clustered-" : "single-") + n;
    int port = Bench.freePort();
    int clusterPort = Bench.freePort();
    section(String.format("[%d/%d] %s: java -jar scairelay.jar run%s", order, total, name, clustered ? " --cluster (one member)" : ""));
    NodeProcess node = startNode(name, port, clustered ? new ClusterPlace("bench-ab-" + runId + "-" + n, clusterPort, List.of(clusterPort)) : null,
        List.of(), "WARN");
    Admin admin = null;
    try {
      long t0 = System.nanoTime();
      String nodeId = awaitReady(node, port, 1, System.nanoTime() + TimeUnit.SECONDS.toNanos(120));
      progress(String.format("ready in %.1f s (node %s)", (System.nanoTime() - t0) / 1e9, nodeId));
      openPgStats();
      admin = new Admin(vertx, port, adminToken);
      Admin a = admin;
      JsonObject one = admin.bridge(admin.room(name + "-inbound").getString("room_id"), "inbound", null);
      String oneId = one.getString("bridge_id");
      List<String[]> single = List.<String[]>of(new String[] {oneId, one.getString("shared_secret")});
      int pairs = opt("relay-pairs", 100, 20);
      List<String[]> sources = new ArrayList<>();
      List<String> outbound = new ArrayList<>();
      if (pairs > 0) {
        List<JsonObject> rooms = admin.many("rooms", pairs, i -> a.post("/v1/rooms", new JsonObject().put("name", name + "-pair-" + i)));
        for (JsonObject b : admin.many("inbound bridges", pairs, i -> a.post("/v1/admin/bridges",
            Admin.bridgeBody(rooms.get(i).getString("room_id"), "inbound", null)))) {
          sources.add(new String[] {b.getString("bridge_id"), b.getString("shared_secret")});
        }
        for (JsonObject b : admin.many("outbound bridges", pairs, i -> a.post("/v1/admin/bridges",
            Admin.bridgeBody(rooms.get(i).getString("room_id"), "outbound", sink.url("/ab/" + name + "/" + i))))) {
          outbound.add(b.getString("bridge_id"));
        }
      }
      int duration = opt("duration", 5, 2);
      long requests = Long.parseLong(opts.getOrDefault("wrk-requests", quick ? "50000" : "200000"));
      Duration warmup = Duration.ofSeconds(opt("node-warmup", 8, 3));
      progress("warming up the node's JIT for " + warmup.toSeconds() + " s with wrk (not measured)");
      Wrk.Result warm = wrk.run(name + "-warm-up", port, warmup, requests, k -> signed(single, name + "w", k));
      long count = Math.min(1_000_000, Math.max(requests, (long) (2 * warm.rate() * (duration + 1))));

      long[] before = stableCounters(admin, oneId);
      pgStats.reset();
      double cpu0 = node.cpuSeconds();
      double pg0 = NodeProcess.postgresCpuSeconds(postmasterPid);
      long w0 = System.nanoTime();
      Wrk.Result r = wrk.run(name + "-inbound-max", port, Duration.ofSeconds(duration), count, k -> signed(single, name, k));
      double seconds = (System.nanoTime() - w0) / 1e9;
      double nodeCores = (node.cpuSeconds() - cpu0) / seconds;
      double pgCores = (NodeProcess.postgresCpuSeconds(postmasterPid) - pg0) / seconds;
      long[] after = stableCounters(admin, oneId);
      report.statements(r.name(), pgStats.top(5));
      long duplicates = after[1] - before[1];
      long acks = Math.max(0, r.successes() - duplicates);
      double rate = acks / r.seconds();
      report.run(Bench.asRun(r, acks));
      String note = String.format("wrk: %,d answers in %.1f s, %,d non-2xx, %,d socket errors, p50 %.2f ms, p99 %.2f ms; node: %,d accepted, "
              + "%,d duplicates; node %.2f cores, PostgreSQL %.2f cores (wrk's start-up included)%s", r.requests(), r.seconds(), r.statusErrors(),
          r.socketErrors(), r.p50(), r.p99(), after[0] - before[0], duplicates, nodeCores, pgCores,
          r.recycled() > 0 ? String.format("; %,d requests sent twice (raise --wrk-requests)", r.recycled()) : "");
      report.figure("single vs cluster", name + ": inbound max rate, 1 bridge (wrk)", rate, "acks/s", null, null, note);

      double relay = Double.NaN;
      double relayInbound = Double.NaN;
      long delivered = 0;
      long expected = 0;
      long dupDeliveries = 0;
      String relayNote = "";
      if (pairs > 0) {
        sink.reset();
        sink.okDelayMs = 0;
        pgStats.reset();
        int relaySeconds = opt("relay-seconds", 3, 2);
        long relayCount = Math.min(1_000_000, Math.max(requests, (long) (2 * warm.rate() * (relaySeconds + 1))));
        Wrk.Result rr = wrk.run(name + "-relay-" + pairs + "-pairs", port, Duration.ofSeconds(relaySeconds), relayCount,
            k -> signed(sources, name + "r", k));
        expected = rr.successes() - rr.recycled();
        relayInbound = rr.successes() / rr.seconds();
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(opt("drain-seconds", 60, 30));
        while (sink.arrivals.size() < expected && System.nanoTime() < drainDeadline) {
          Thread.sleep(20);
        }
        report.statements(rr.name(), pgStats.top(5));
        delivered = sink.delivered.sum();
        long distinct = sink.arrivals.size();
        dupDeliveries = delivered - distinct;
        double span = (sink.lastNanos - sink.firstNanos) / 1e9;
        relay = delivered > 1 ? (delivered - 1) / span : Double.NaN;
        report.run(Bench.asRun(rr, rr.successes()));
        relayNote = String.format("inbound %,.0f acks/s; %,d acked by wrk's count, %,d distinct delivered (%,d twice) in %.1f s from the first delivery to the last%s",
            relayInbound, expected, distinct, dupDeliveries, span, distinct < expected ? "; NOT DRAINED within --drain-seconds: the rest is cancelled" : "");
        report.figure("single vs cluster", name + ": relay, " + pairs + " bridge pairs, delivered/s (wrk inbound at max)", relay, "deliveries/s",
            null, null, relayNote);
        if (distinct < expected) {
          // What is left is cancelled with the bridges, so the next node does not deliver it during its own runs.
          for (String id : outbound) {
            admin.call(HttpMethod.DELETE, "/v1/admin/bridges/" + id);
          }
        }
      }
      progress(String.format("%s: inbound %s acks/s (p99 %.1f ms)%s", name, Report.format(rate), r.p99(),
          pairs > 0 ? ", relay " + Report.format(relay) + " deliveries/s" : ""));
      return new AbRun(order, name, clustered, rate, r.p99(), nodeCores, pgCores, relay, relayInbound, sink.arrivals.size(), expected, dupDeliveries,
          r.recycled() > 0 ? r.recycled() + " requests sent twice" : "");
    } finally {
      if (admin != null) {
        admin.close();
      }
      stop(node, 30);
    }
  }

  /** One bridge's inbound counters (accepted, duplicates) once they stop changing (the node writes them every second). */
  private static long[] stableCounters(Admin admin, String bridgeId) throws InterruptedException {
    long[] last = counters(admin, bridgeId);
    for (int i = 0; i < 15; i++) {
      Thread.sleep(1100);
      long[] now = counters(admin, bridgeId);
      if (java.util.Arrays.equals(now, last)) {
        return now;
      }
      last = now;
    }
    return last;
  }

  private static long[] counters(Admin admin, String bridgeId) {
    JsonObject c = admin.getJson("/v1/admin/bridges/" + bridgeId).getJsonObject("counters", new JsonObject());
    return new long[] {c.getLong("inbound_accepted", 0L), c.getLong("inbound_duplicates", 0L)};
  }

  private Wrk.Request signed(List<String[]> bridges, String prefix, long k) {
    return Bench.signedInbound(bridges.get((int) (k % bridges.size())), Bench.inboundBody(runId, prefix, seqs.incrementAndGet()));
  }

  // ---------------------------------------------------------------- 2: three nodes, the busiest owner killed

  /** One delivery as the sink saw it. */
  record Arrival(String eventId, long nanos) {
  }

  /** One SIGKILL: whom, what it owned, when it died, when it was back. */
  static final class Kill {
    final int number;
    final int index;
    final String nodeId;
    final List<String> targets;
    final Map<String, Integer> owned;
    long killedAt;
    long deadAt;
    long restartedAt;
    long readyAt;
    String newNodeId;
    /** The next kill, or the end of the load: what happened until then is this kill's doing. */
    long windowEnd;
    /** The targets the restarted node owns once the three agree again (they moved to it from the survivors, or back). */
    List<String> movedToRejoined = List.of();

    Kill(int number, int index, String nodeId, List<String> targets, Map<String, Integer> owned) {
      this.number = number;
      this.index = index;
      this.nodeId = nodeId;
      this.targets = targets;
      this.owned = owned;
    }
  }

  private void failover() throws Exception {
    int nodesCount = 3;
    int roomsCount = opt("rooms", 6, 3);
    int perRoom = opt("bridges-per-room", 10, 5);
    double rate = opt("rate", 200, 100);
    int kills = opt("kills", 3, 2);
    Duration interval = Duration.ofSeconds(opt("kill-interval", 10, 8));
    String heap = opt("node-heap", "512m");
    section(String.format("three nodes (run --cluster, -Xmx%s) on one PostgreSQL: %d rooms x %d outbound bridges, %.0f events/s, "
        + "the busiest owner killed (SIGKILL) and restarted %d times", heap, roomsCount, perRoom, rate, kills));
    List<Integer> http = new ArrayList<>();
    List<Integer> clusterPorts = new ArrayList<>();
    for (int i = 0; i < nodesCount; i++) {
      http.add(Bench.freePort());
      clusterPorts.add(Bench.freePort());
    }
    String clusterName = "bench-failover-" + runId;
    NodeProcess[] nodes = new NodeProcess[nodesCount];
    String[] nodeIds = new String[nodesCount];
    List<String> jvm = List.of("-Xmx" + heap);
    String logLevel = opt("node-log-level", "INFO");

    Map<String, List<Arrival>> arrivals = new ConcurrentHashMap<>();
    sink.reset();
    sink.timeFromNanos = 0;
    sink.okDelayMs = opt("sink-delay-ms", 5, 5);
    sink.recorder = (path, body, nanos) -> {
      if (path.startsWith("/fo/")) {
        arrivals.computeIfAbsent(path, p -> Collections.synchronizedList(new ArrayList<>())).add(new Arrival(body.getString("event_id"), nanos));
      }
    };
    List<Admin> admins = new ArrayList<>();
    EventLoad load = null;
    try {
      long t0 = System.nanoTime();
      for (int i = 0; i < nodesCount; i++) {
        nodes[i] = startNode("node-" + i, http.get(i), new ClusterPlace(clusterName, clusterPorts.get(i), clusterPorts), jvm, logLevel);
      }
      awaitCluster(nodes, http, nodeIds, System.nanoTime() + TimeUnit.SECONDS.toNanos(180));
      progress(String.format("3 nodes ready, each seeing the same 3 members, %.1f s after the start: %s", (System.nanoTime() - t0) / 1e9,
          String.join(", ", nodeIds)));
      openPgStats();
      for (int i = 0; i < nodesCount; i++) {
        admins.add(new Admin(vertx, http.get(i), adminToken));
      }

      List<String> rooms = new ArrayList<>();
      List<String> targets = new ArrayList<>();
      Map<String, String> pathOf = new HashMap<>();
      Map<String, Integer> roomOfTarget = new HashMap<>();
      for (int r = 0; r < roomsCount; r++) {
        String room = admins.get(r % nodesCount).room("failover-" + r).getString("room_id");
        if (!ROOM_ID.matcher(room).matches()) {
          throw new IllegalStateException("unexpected room id " + room);
        }
        rooms.add(room);
        for (int b = 0; b < perRoom; b++) {
          String path = "/fo/" + r + "/" + b;
          String id = admins.get((r * perRoom + b) % nodesCount).bridge(room, "outbound", sink.url(path)).getString("bridge_id");
          targets.add(id);
          pathOf.put(id, path);
          roomOfTarget.put(id, r);
        }
      }
      progress(String.format("%d rooms, %d outbound bridges to the sink (it answers 200 after %d ms)", roomsCount, targets.size(), sink.okDelayMs));

      load = new EventLoad(rate, rooms, http);
      pgStats.reset();
      load.start();
      long loadStart = System.nanoTime();
      progress(String.format("load: %.0f room events/s, round-robin over the nodes, a failed attempt retried on the next node", rate));

      List<Kill> done = new ArrayList<>();
      long nextKill = loadStart + interval.toNanos();
      int settle = opt("settle-seconds", 5, 3);
      for (int k = 1; k <= kills; k++) {
        sleepUntil(nextKill, nodes);
        Map<String, String> owners = owners(targets, nodes, http);
        Map<String, Integer> owned = new TreeMap<>();
        owners.values().forEach(o -> owned.merge(o, 1, Integer::sum));
        String victimId = owned.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        int victim = -1;
        for (int i = 0; i < nodesCount; i++) {
          if (victimId.equals(nodeIds[i])) {
            victim = i;
          }
        }
        if (victim < 0) {
          throw new IllegalStateException("the owner " + victimId + " is none of the nodes started: " + String.join(", ", nodeIds));
        }
        List<String> victimTargets = targets.stream().filter(t -> victimId.equals(owners.get(t))).toList();
        Map<String, Integer> ownedByName = new TreeMap<>();
        owned.forEach((id, c) -> ownedByName.put(nameOf(id, nodeIds), c));
        Kill kill = new Kill(k, victim, victimId, victimTargets, ownedByName);
        kill.killedAt = System.nanoTime();
        nodes[victim].process.destroyForcibly();
        if (!nodes[victim].process.waitFor(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("node-" + victim + " did not die within 10 s of SIGKILL");
        }
        kill.deadAt = System.nanoTime();
        running.remove(nodes[victim]);
        progress(String.format("kill %d at t=%.1f s: SIGKILL node-%d (%s), owner of %d of %d targets (owners: %s); restarting it", k,
            (kill.killedAt - loadStart) / 1e9, victim, victimId, victimTargets.size(), targets.size(), ownedByName));
        awaitPortsFree(30, http.get(victim), clusterPorts.get(victim));
        nodes[victim] = startNode("node-" + victim, http.get(victim), new ClusterPlace(clusterName, clusterPorts.get(victim), clusterPorts), jvm,
            logLevel);
        kill.restartedAt = System.nanoTime();
        nodeIds[victim] = null;
        awaitCluster(nodes, http, nodeIds, System.nanoTime() + TimeUnit.SECONDS.toNanos(180));
        kill.readyAt = System.nanoTime();
        kill.newNodeId = nodeIds[victim];
        Map<String, String> after = owners(targets, nodes, http);
        kill.movedToRejoined = targets.stream().filter(t -> kill.newNodeId.equals(after.get(t))).toList();
        if (!done.isEmpty()) {
          done.get(done.size() - 1).windowEnd = kill.killedAt;
        }
        done.add(kill);
        double[] f = failoverSeconds(kill, arrivals, pathOf);
        progress(String.format("node-%d is back as %s, 3 members seen by all three, %.1f s after the kill; the victim's targets had a delivery "
                + "again after %s s (max), %s s (median)", victim, kill.newNodeId, (kill.readyAt - kill.killedAt) / 1e9, fmt(max(f)), fmt(median(f))));
        progress(String.format("the restarted node owns %d targets now", kill.movedToRejoined.size()));
        nextKill = Math.max(kill.killedAt + interval.toNanos(), kill.readyAt + TimeUnit.SECONDS.toNanos(settle));
      }
      sleepUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(settle), nodes);
      load.stop();
      long loadStop = System.nanoTime();
      if (!done.isEmpty()) {
        done.get(done.size() - 1).windowEnd = loadStop;
      }
      progress(String.format("load stopped after %.1f s: %,d events posted, %,d accepted (201), %,d accepted by none of the nodes, "
              + "%,d attempts retried on another node, %,d 5xx answers", (loadStop - loadStart) / 1e9, load.posted.get(), load.accepted.size(),
          load.refused.get(), load.retries.get(), load.serverErrors.get()));

      // What PostgreSQL stored is what every target of the room must receive, in that order.
      Map<Integer, List<String>> stored = storedEvents(rooms);
      long drainStart = System.nanoTime();
      long drainDeadline = drainStart + TimeUnit.SECONDS.toNanos(opt("drain-seconds", 60, 30));
      while (System.nanoTime() < drainDeadline && !drained(targets, pathOf, roomOfTarget, stored, arrivals)) {
        Thread.sleep(250);
      }
      boolean drained = drained(targets, pathOf, roomOfTarget, stored, arrivals);
      progress(String.format("%s %.1f s after the load stopped", drained ? "every target has every stored event of its room"
          : "NOT DRAINED within --drain-seconds", (System.nanoTime() - drainStart) / 1e9));
      sink.recorder = null;
      analyse(done, targets, pathOf, roomOfTarget, stored, arrivals, load, loadStart, loadStop, drained);
    } finally {
      sink.recorder = null;
      sink.okDelayMs = 0;
      if (load != null) {
        load.close();
      }
      admins.forEach(Admin::close);
      List<NodeProcess> alive = new ArrayList<>();
      for (NodeProcess n : nodes) {
        if (n != null && running.contains(n)) {
          n.process.destroy();
          alive.add(n);
        }
      }
      for (NodeProcess n : alive) {
        stop(n, 30);
      }
    }
  }

  /**
   * Waits until this machine can listen on every one of {@code ports} again: a node restarted on the ports of
   * one just killed must not race the kernel (or a member still connected to the dead one) for them.
   */
  private static void awaitPortsFree(int seconds, int... ports) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (int port : ports) {
      while (true) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
          probe.setReuseAddress(false);
          probe.bind(new java.net.InetSocketAddress("127.0.0.1", port));
          break;
        } catch (IOException busy) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("port " + port + " is still taken " + seconds + " s after the node using it was killed");
          }
          Thread.sleep(200);
        }
      }
    }
  }

  private static String nameOf(String nodeId, String[] nodeIds) {
    for (int i = 0; i < nodeIds.length; i++) {
      if (nodeId.equals(nodeIds[i])) {
        return "node-" + i;
      }
    }
    return nodeId;
  }

  /** Sleeps until {@code nanos}; fails should a node die meanwhile that was not killed here. */
  private void sleepUntil(long nanos, NodeProcess[] nodes) throws InterruptedException {
    while (System.nanoTime() < nanos) {
      for (int i = 0; i < nodes.length; i++) {
        if (!nodes[i].process.isAlive()) {
          throw new IllegalStateException("node-" + i + " exited by itself (" + nodes[i].process.exitValue() + "):\n" + tail(nodes[i]));
        }
      }
      Thread.sleep(Math.max(1, Math.min(200, (nanos - System.nanoTime()) / 1_000_000)));
    }
  }

  /**
   * Waits until every node is ready, sees 3 members, and the members each sees are the three processes running now
   * (not a killed one Hazelcast has not dropped yet). Fills in {@code nodeIds}.
   */
  private void awaitCluster(NodeProcess[] nodes, List<Integer> http, String[] nodeIds, long deadline) throws InterruptedException {
    for (int i = 0; i < nodes.length; i++) {
      nodeIds[i] = awaitReady(nodes[i], http.get(i), nodes.length, deadline);
    }
    Set<String> current = new HashSet<>(List.of(nodeIds));
    while (true) {
      boolean agree = true;
      for (int i = 0; i < nodes.length && agree; i++) {
        Object[] answer = get(http.get(i), "/v1/admin/cluster");
        if ((int) answer[0] != 200) {
          agree = false;
          break;
        }
        JsonArray members = new JsonObject((String) answer[1]).getJsonArray("members", new JsonArray());
        Set<String> seen = new HashSet<>();
        for (int m = 0; m < members.size(); m++) {
          seen.add(members.getJsonObject(m).getString("node_id"));
        }
        agree = seen.equals(current);
      }
      if (agree) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the nodes did not agree on their 3 members in time: " + current);
      }
      for (int i = 0; i < nodes.length; i++) {
        if (!nodes[i].process.isAlive()) {
          throw new IllegalStateException("node-" + i + " exited:\n" + tail(nodes[i]));
        }
      }
      Thread.sleep(200);
    }
  }

  /** The owner of each target, as a live node sees it right now (GET /v1/admin/cluster?target_id=…). */
  private Map<String, String> owners(List<String> targets, NodeProcess[] nodes, List<Integer> http) {
    for (int i = 0; i < nodes.length; i++) {
      if (!nodes[i].process.isAlive()) {
        continue;
      }
      Map<String, String> owners = new LinkedHashMap<>();
      for (String t : targets) {
        Object[] answer = get(http.get(i), "/v1/admin/cluster?target_id=" + t);
        if ((int) answer[0] != 200) {
          owners = null;
          break;
        }
        owners.put(t, new JsonObject((String) answer[1]).getJsonObject("target").getString("owner"));
      }
      if (owners != null) {
        return owners;
      }
    }
    throw new IllegalStateException("no node answered GET /v1/admin/cluster?target_id=…");
  }

  private Map<Integer, List<String>> storedEvents(List<String> rooms) throws IOException, InterruptedException {
    Map<Integer, List<String>> stored = new HashMap<>();
    for (int r = 0; r < rooms.size(); r++) {
      Exec.Output out = Exec.run(List.of("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Integer.toString(pgPort),
          "-U", "postgres", "-d", "scairelay", "-c", "SELECT id FROM events WHERE room_id = '" + rooms.get(r) + "' ORDER BY seq"),
          Map.of("PGPASSWORD", pgPassword), Duration.ofSeconds(60));
      if (out.exitCode() != 0) {
        throw new IOException("psql: " + out.text());
      }
      stored.put(r, out.text().lines().map(String::trim).filter(l -> !l.isEmpty()).toList());
    }
    return stored;
  }

  private static List<Arrival> snapshot(Map<String, List<Arrival>> arrivals, String path) {
    List<Arrival> list = arrivals.get(path);
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return new ArrayList<>(list);
    }
  }

  private static boolean drained(List<String> targets, Map<String, String> pathOf, Map<String, Integer> roomOfTarget,
                                 Map<Integer, List<String>> stored, Map<String, List<Arrival>> arrivals) {
    for (String t : targets) {
      Set<String> got = new HashSet<>();
      snapshot(arrivals, pathOf.get(t)).forEach(a -> got.add(a.eventId()));
      if (!got.containsAll(stored.get(roomOfTarget.get(t)))) {
        return false;
      }
    }
    return true;
  }

  /** For each target the victim owned: seconds from the SIGKILL to its first delivery after the process was gone (NaN: none yet). */
  private static double[] failoverSeconds(Kill kill, Map<String, List<Arrival>> arrivals, Map<String, String> pathOf) {
    double[] out = new double[kill.targets.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = nextDelivery(snapshot(arrivals, pathOf.get(kill.targets.get(i))), kill.deadAt, kill.killedAt);
    }
    return out;
  }

  private static double nextDelivery(List<Arrival> got, long after, long from) {
    return got.stream().mapToLong(Arrival::nanos).filter(n -> n > after).min().stream().mapToDouble(n -> (n - from) / 1e9).findFirst()
        .orElse(Double.NaN);
  }

  private void analyse(List<Kill> kills, List<String> targets, Map<String, String> pathOf, Map<String, Integer> roomOfTarget,
                       Map<Integer, List<String>> stored, Map<String, List<Arrival>> arrivals, EventLoad load, long loadStart, long loadStop,
                       boolean drained) {
    section("failover: the figures");
    Set<String> storedAll = new HashSet<>();
    stored.values().forEach(storedAll::addAll);
    Set<String> acceptedNotStored = new HashSet<>(load.accepted.keySet());
    acceptedNotStored.removeAll(storedAll);

    // Lost: an accepted event some outbound bridge of its room never received. Order: a first copy after a later event of the room.
    Map<String, Set<String>> missingByEvent = new HashMap<>();
    Set<String> storedNotAcceptedMissing = new HashSet<>();
    Map<String, Integer> orderViolations = new TreeMap<>();
    long unknown = 0;
    long totalDeliveries = 0;
    List<JsonObject> duplicates = new ArrayList<>();
    int explained = 0;
    Map<Integer, Integer> duplicatesByKill = new TreeMap<>();
    for (String t : targets) {
      String path = pathOf.get(t);
      List<String> expected = stored.get(roomOfTarget.get(t));
      Map<String, Integer> index = new HashMap<>();
      for (int i = 0; i < expected.size(); i++) {
        index.put(expected.get(i), i);
      }
      List<Arrival> got = snapshot(arrivals, path);
      totalDeliveries += got.size();
      Map<String, Arrival> first = new LinkedHashMap<>();
      int highest = -1;
      int violations = 0;
      for (Arrival a : got) {
        Arrival earlier = first.putIfAbsent(a.eventId(), a);
        if (earlier != null) {
          // Sent twice: was the first copy there before a kill of this target's owner, and the second after it?
          Kill cause = null;
          for (Kill k : kills) {
            if (k.targets.contains(t) && earlier.nanos() < k.deadAt && a.nanos() > k.deadAt) {
              cause = k;
            }
          }
          if (cause != null) {
            explained++;
            duplicatesByKill.merge(cause.number, 1, Integer::sum);
          }
          duplicates.add(new JsonObject().put("target", t).put("path", path).put("event_id", a.eventId())
              .put("first_at_s", (earlier.nanos() - loadStart) / 1e9).put("again_at_s", (a.nanos() - loadStart) / 1e9)
              .put("kill", cause == null ? null : cause.number).put("first_copy_before_the_kill", cause != null)
              .put("first_copy_s_before_the_kill", cause == null ? null : (cause.killedAt - earlier.nanos()) / 1e9));
          // (negative: the copy arrived between the SIGKILL and the process being gone, sent before it died)
          continue;
        }
        Integer i = index.get(a.eventId());
        if (i == null) {
          unknown++;
          continue;
        }
        if (i < highest) {
          violations++;
        }
        highest = Math.max(highest, i);
      }
      if (violations > 0) {
        orderViolations.put(path, violations);
      }
      for (String id : expected) {
        if (!first.containsKey(id)) {
          if (load.accepted.containsKey(id)) {
            missingByEvent.computeIfAbsent(id, x -> new HashSet<>()).add(t);
          } else {
            storedNotAcceptedMissing.add(id);
          }
        }
      }
    }
    // An accepted event PostgreSQL does not have is lost for every bridge of its room.
    for (String id : acceptedNotStored) {
      int room = load.accepted.get(id);
      targets.stream().filter(t -> roomOfTarget.get(t) == room).forEach(t -> missingByEvent.computeIfAbsent(id, x -> new HashSet<>()).add(t));
    }
    long missingDeliveries = missingByEvent.values().stream().mapToLong(Set::size).sum();
    long storedCount = storedAll.size();
    long storedNotAccepted = storedAll.stream().filter(id -> !load.accepted.containsKey(id)).count();

    // Per kill: failover of the victim's targets, the next delivery of the others, and the longest pause of any target until the next
    // kill other than the victim's outage itself (a pause that starts after the restart: the targets moving to the rejoined node).
    JsonArray killsJson = new JsonArray();
    StringBuilder md = new StringBuilder(String.format("Load: %.0f room events/s for %.1f s, round-robin over the three nodes (a failed "
            + "attempt goes to the next node, as a load balancer would); %d rooms x %d outbound bridges; the sink answers 200 after %d ms. Before "
            + "each kill the harness asks a live node `GET /v1/admin/cluster?target_id=…` for the owner of every target and kills (SIGKILL) "
            + "the node that owns the most, restarts it at once and waits until all three are ready and see the same three members. "
            + "Failover of a target: from the SIGKILL to its first delivery after the process was gone. A message sent twice counts as "
            + "explained when its first copy arrived before the killed process was gone (a negative lead: between the SIGKILL and its end) "
            + "and the second after.%n%n",
        load.rate, (loadStop - loadStart) / 1e9, stored.size(), targets.size() / Math.max(1, stored.size()), opt("sink-delay-ms", 5, 5)));
    md.append("| kill | at | victim | targets it owned | failover max s | failover median s | other targets: next delivery, max s "
        + "| back with 3 members after s | targets the restarted node owns then | longest other pause until the next kill: s (target, starting s after the kill) "
        + "| sent twice (first copy before this kill) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Kill k : kills) {
      double[] f = failoverSeconds(k, arrivals, pathOf);
      double others = 0;
      double pause = 0;
      double pauseStart = Double.NaN;
      String pauseTarget = "";
      for (String t : targets) {
        List<Arrival> got = snapshot(arrivals, pathOf.get(t));
        if (!k.targets.contains(t)) {
          others = Math.max(others, nextDelivery(got, k.deadAt, k.killedAt));
        }
        for (int i = 0; i < got.size(); i++) {
          long a = got.get(i).nanos();
          long b = i + 1 < got.size() ? Math.min(got.get(i + 1).nanos(), k.windowEnd) : k.windowEnd;
          if (a >= k.restartedAt && a < k.windowEnd && (b - a) / 1e9 > pause) {
            pause = (b - a) / 1e9;
            pauseStart = (a - k.killedAt) / 1e9;
            pauseTarget = pathOf.get(t) + (k.movedToRejoined.contains(t) ? ", moved to the restarted node" : k.targets.contains(t) ? ", the victim's" : "");
          }
        }
      }
      double fmax = max(f);
      double fmed = median(f);
      int dups = duplicatesByKill.getOrDefault(k.number, 0);
      JsonArray perTarget = new JsonArray();
      for (int i = 0; i < f.length; i++) {
        perTarget.add(new JsonObject().put("target", k.targets.get(i)).put("path", pathOf.get(k.targets.get(i))).put("failover_s", nan(f[i])));
      }
      killsJson.add(new JsonObject().put("kill", k.number).put("at_s", (k.killedAt - loadStart) / 1e9).put("node", "node-" + k.index)
          .put("node_id", k.nodeId).put("owned", new JsonObject(new LinkedHashMap<>(k.owned))).put("victim_targets", k.targets.size())
          .put("failover_max_s", nan(fmax)).put("failover_median_s", nan(fmed)).put("others_next_delivery_max_s", others)
          .put("longest_other_pause_s", pause).put("longest_other_pause_target", pauseTarget).put("longest_other_pause_from_s_after_kill", nan(pauseStart))
          .put("owned_by_restarted_node", k.movedToRejoined.size()).put("until_s", (k.windowEnd - loadStart) / 1e9)
          .put("back_after_s", (k.readyAt - k.killedAt) / 1e9).put("restarted_as", k.newNodeId).put("duplicates_first_before_kill", dups)
          .put("failover_per_target", perTarget));
      md.append(String.format("| %d | t=%.1f s | node-%d | %d of %d | %s | %s | %.2f | %.1f | %d | %.2f (%s, %.1f) | %d |%n", k.number,
          (k.killedAt - loadStart) / 1e9, k.index, k.targets.size(), targets.size(), fmt(fmax), fmt(fmed), others, (k.readyAt - k.killedAt) / 1e9,
          k.movedToRejoined.size(), pause, pauseTarget, pauseStart, dups));
      report.headline("failover", String.format("kill %d: failover, max over the %d targets of the killed owner", k.number, k.targets.size()), fmax, "s",
          String.format("< %.0f s", FAILOVER_TARGET_SECONDS), Double.isNaN(fmax) ? Boolean.FALSE : fmax < FAILOVER_TARGET_SECONDS,
          String.format("median %s s; node-%d killed at t=%.1f s, back with 3 members %.1f s later (then owning %d targets); other targets' next "
              + "delivery within %.2f s; the longest pause of a target after the restart until the next kill %.2f s (%s, from %.1f s after the kill)",
              fmt(fmed), k.index, (k.killedAt - loadStart) / 1e9, (k.readyAt - k.killedAt) / 1e9, k.movedToRejoined.size(), others, pause,
              pauseTarget, pauseStart));
    }

    long lost = missingByEvent.size();
    report.headline("failover", "messages lost (accepted with 201, not delivered to every outbound bridge of its room)", lost, "messages", "0",
        drained || lost > 0 ? lost == 0 : null, String.format("%,d accepted, %,d stored in PostgreSQL (%,d of them never answered 201: a node died "
                + "first, or the attempt timed out), %,d accepted but not stored; %,d deliveries missing; %s", load.accepted.size(), storedCount,
            storedNotAccepted, acceptedNotStored.size(), missingDeliveries, drained ? "drained" : "NOT drained within --drain-seconds"));
    long violations = orderViolations.values().stream().mapToLong(Integer::longValue).sum();
    report.headline("failover", "order violations (a first copy after a later event of its room, PostgreSQL's order)", violations, "deliveries", "0",
        violations == 0, orderViolations.isEmpty() ? "every target got its room's events in the order PostgreSQL stored them"
            : "by target: " + orderViolations);
    Map<String, Integer> perTargetKill = new HashMap<>();
    double lead = 0;
    for (JsonObject d : duplicates) {
      perTargetKill.merge(d.getString("path") + "@" + d.getValue("kill"), 1, Integer::sum);
      if (d.getValue("first_copy_s_before_the_kill") != null) {
        lead = Math.max(lead, d.getDouble("first_copy_s_before_the_kill"));
      }
    }
    report.figure("failover", "messages delivered twice", duplicates.size(), "deliveries", "each: first copy before a kill of its owner",
        explained == duplicates.size(), String.format("%d of %d had their first copy before the process of the target's owner was gone and the "
            + "second after; by kill: %s; at most %d at one target for one kill; the earliest first copy %.3f s before its kill", explained,
            duplicates.size(), duplicatesByKill, perTargetKill.values().stream().mapToInt(Integer::intValue).max().orElse(0), lead));
    report.figure("failover", "events stored without a 201 (answered 5xx or cut off; the load sent them again)", storedNotAccepted, "events", null, null,
        "PostgreSQL has each of them; when the retry on another node was accepted, the room has the message twice under two event ids, and both are delivered");
    report.figure("failover", "stored events never delivered to some bridge (never answered 201)", storedNotAcceptedMissing.size(), "events", null, null,
        "events a node stored but whose 201 the load never saw; they count as lost if they do not arrive");
    report.figure("failover", "deliveries of events PostgreSQL does not have", unknown, "deliveries", "0", unknown == 0, null);
    Histogram latency = sink.latency();
    report.figure("failover", "post-to-delivery latency over the whole load (p99)", latency.getValueAtPercentile(99) / 1000.0, "ms (p99)",
        null, null, String.format("p50 %.1f ms, max %.0f ms, %,d deliveries", latency.getValueAtPercentile(50) / 1000.0, latency.getMaxValue() / 1000.0,
            totalDeliveries));
    report.figure("failover", "load: events accepted / posted", load.accepted.size(), "events", null, null, String.format("%,d posted at %.0f/s; "
            + "%,d accepted by none of the three; %,d attempts retried on the next node (%s); %,d 5xx answers", load.posted.get(), load.rate,
        load.refused.get(), load.retries.get(), load.failures, load.serverErrors.get()));
    report.statements("failover", pgStats.top(5));

    md.append(String.format("%nLost: %d accepted messages missing at some bridge (%d deliveries); order violations: %d; sent twice: %d (%d with the first copy "
        + "before a kill of the target's owner); %,d events accepted, %,d stored; %s.%n", lost, missingDeliveries, violations, duplicates.size(), explained,
        load.accepted.size(), storedCount, drained ? "everything drained" : "NOT drained"));
    if (!duplicates.isEmpty()) {
      md.append("\n| sent twice: target | event | first copy at | again at | kill | first copy before it (by) |\n| --- | --- | --- | --- | --- | --- |\n");
      duplicates.stream().limit(50).forEach(d -> md.append(String.format("| %s | %s | t=%.3f s | t=%.3f s | %s | %s |%n", d.getString("path"),
          d.getString("event_id"), d.getDouble("first_at_s"), d.getDouble("again_at_s"), d.getValue("kill"),
          d.getBoolean("first_copy_before_the_kill") ? String.format("yes (%.3f s)", d.getDouble("first_copy_s_before_the_kill")) : "no")));
      if (duplicates.size() > 50) {
        md.append("\n(").append(duplicates.size() - 50).append(" more in results.json)\n");
      }
    }
    if (!load.serverErrorSamples.isEmpty()) {
      md.append("\n| 5xx answer at | node | status | body |\n| --- | --- | --- | --- |\n");
      load.serverErrorSamples.forEach(e -> md.append(String.format("| t=%.3f s | %s | %d | `%s` |%n", e.getDouble("at_s"), e.getString("node"),
          e.getInteger("status"), e.getString("body").replace("|", "\\|").replace("`", "'"))));
    }
    md.append("\nOn one machine extra nodes add no speed: the three nodes share its cores and one PostgreSQL. This scenario is about what "
        + "happens when a node dies, not about throughput.\n");
    report.section("failover", "Three nodes: the busiest owner killed", md.toString(), new JsonObject().put("kills", killsJson)
        .put("accepted", load.accepted.size()).put("posted", load.posted.get()).put("stored", storedCount).put("lost", lost)
        .put("missing_deliveries", missingDeliveries).put("accepted_not_stored", acceptedNotStored.size())
        .put("order_violations", new JsonObject(new LinkedHashMap<>(orderViolations))).put("duplicates", new JsonArray(duplicates))
        .put("drained", drained).put("server_errors", new JsonArray(new ArrayList<>(load.serverErrorSamples))));
  }

  /**
   * Room events at a fixed rate ({@code POST /v1/rooms/<id>/events}), the rooms in turn, each to the next node in turn; an
   * attempt that fails (no connection, no answer within 3 s, 5xx) goes to the next node, up to every node once.
   */
  private final class EventLoad {
    final double rate;
    final List<String> rooms;
    final List<HttpClient> clients = new ArrayList<>();
    final Map<String, Integer> accepted = new ConcurrentHashMap<>();
    final AtomicLong posted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong serverErrors = new AtomicLong();
    final Map<String, Long> failures = new ConcurrentHashMap<>();
    /** The first 50 5xx answers: when (s since the load started), from which node, what. */
    final List<JsonObject> serverErrorSamples = new CopyOnWriteArrayList<>();
    final AtomicLong outstanding = new AtomicLong();
    private Context context;
    private long timer = -1;
    private long startNanos;
    private long next;
    private volatile boolean stopping;

    EventLoad(double rate, List<String> rooms, List<Integer> ports) {
      this.rate = rate;
      this.rooms = rooms;
      for (int port : ports) {
        clients.add(vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true)
            .setConnectTimeout(1_000), new PoolOptions().setHttp1MaxSize(16)));
      }
    }

    void start() {
      context = vertx.getOrCreateContext();
      context.runOnContext(v -> {
        startNanos = System.nanoTime();
        timer = vertx.setPeriodic(5, id -> {
          if (stopping) {
            return;
          }
          long due = (long) ((System.nanoTime() - startNanos) / 1e9 * rate);
          while (next < due && outstanding.get() < 2_000) {
            post(next++);
          }
        });
      });
    }

    private void post(long n) {
      int room = (int) (n % rooms.size());
      long seq = seqs.incrementAndGet();
      sink.sentAtNanos.put(seq, System.nanoTime());
      Buffer body = new JsonObject().put("sender", "@load:example.org").put("display_name", "Load")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "message " + n).put("seq", seq)).toBuffer();
      posted.incrementAndGet();
      outstanding.incrementAndGet();
      attempt(room, body, (int) (n % clients.size()), 0);
    }

    private void attempt(int room, Buffer body, int node, int tried) {
      if (tried == clients.size()) {
        refused.incrementAndGet();
        outstanding.decrementAndGet();
        return;
      }
      if (tried > 0) {
        retries.incrementAndGet();
      }
      clients.get(node).request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/v1/rooms/" + rooms.get(room) + "/events")
              .setIdleTimeout(3_000).putHeader("Authorization", "Bearer " + adminToken).putHeader("Content-Type", "application/json"))
          .compose(req -> req.send(body).compose(resp -> resp.body().map(b -> new Object[] {resp.statusCode(), b})))
          .onComplete(ar -> {
            if (ar.succeeded() && (int) ar.result()[0] == 201) {
              accepted.put(new JsonObject((Buffer) ar.result()[1]).getString("event_id"), room);
              outstanding.decrementAndGet();
              return;
            }
            String kind = ar.succeeded() ? "status " + ar.result()[0] : ar.cause().getClass().getSimpleName();
            failures.merge(kind, 1L, Long::sum);
            if (ar.succeeded() && (int) ar.result()[0] >= 500) {
              serverErrors.incrementAndGet();
              if (serverErrorSamples.size() < 50) {
                String text = ((Buffer) ar.result()[1]).toString();
                serverErrorSamples.add(new JsonObject().put("at_s", (System.nanoTime() - startNanos) / 1e9).put("node", "node-" + node)
                    .put("status", ar.result()[0]).put("body", text.substring(0, Math.min(200, text.length()))));
              }
            }
            if (ar.succeeded() && (int) ar.result()[0] < 500) {
              refused.incrementAndGet(); // a 4xx is the same on every node
              outstanding.decrementAndGet();
              return;
            }
            attempt(room, body, (node + 1) % clients.size(), tried + 1);
          });
    }

    /** No new events; waits (at most 30 s) for those under way. */
    void stop() throws InterruptedException {
      stopping = true;
      if (context != null) {
        context.runOnContext(v -> vertx.cancelTimer(timer));
      }
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (outstanding.get() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }

    void close() {
      stopping = true;
      clients.forEach(c -> c.close());
    }
  }

  // ---------------------------------------------------------------- helpers

  private void section(String title) {
    long s = (System.nanoTime() - startedNanos) / 1_000_000_000L;
    System.out.printf("== [%d:%02d] %s%n", s / 60, s % 60, title);
  }

  private void progress(String line) {
    long s = (System.nanoTime() - startedNanos) / 1_000_000_000L;
    System.out.printf("  [%d:%02d] %s%n", s / 60, s % 60, line);
  }

  static double median(List<Double> values) {
    return median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** The median; NaN when any value is NaN (a target that never had a delivery again) or there are none. */
  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    if (Double.isNaN(v[v.length - 1])) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** The largest; NaN when any value is NaN or there are none. */
  static double max(double[] values) {
    double m = values.length == 0 ? Double.NaN : Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (Double.isNaN(v)) {
        return Double.NaN;
      }
      m = Math.max(m, v);
    }
    return m;
  }

  private static String list(List<Double> values) {
    return String.join(", ", values.stream().map(Report::format).toList());
  }

  private static String fmt(double seconds) {
    return Double.isNaN(seconds) ? "never" : String.format("%.2f", seconds);
  }

  private static Double nan(double v) {
    return Double.isNaN(v) ? null : v;
  }
}
