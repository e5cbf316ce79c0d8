package com.scairelay.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One busy room relayed to one Slack-like server (issue 13): a node in dev mode, a custom inbound bridge
 * that a generator posts into faster than Slack takes messages, and a Slack bridge whose API is a local
 * server that answers as Slack's Web API does and refuses (429 + Retry-After) any post to a channel less
 * than the pace after the previous one. Shows that the node keeps Slack's pace (no 429 earned, the
 * smallest gap between two posts), that nothing is dropped (every message sent in is in exactly one
 * post, in order) and what coalescing makes of the backlog. Writes benchmarks/results/&lt;date&gt;-slack/.
 *
 * <p>Flags: --messages=240 --rate=8 (inbound messages a second) --burst=4 (consecutive messages of one
 * sender) --senders=3 --pace-ms=1000 --drain-seconds=240.
 */
public final class SlackBench {
  private record Post(long atMillis, String channel, String text, String username, boolean refused) {
  }

  private final Map<String, String> opts;
  private final Path repo;
  private final Path work;
  private final String stamp;
  private final Vertx vertx = Vertx.vertx();
  private final List<Post> posts = new CopyOnWriteArrayList<>();
  private final Map<String, Long> lastPostAt = new HashMap<>();
  private final AtomicInteger ts = new AtomicInteger(1_000);
  private final long paceMs;

  private SlackBench(Map<String, String> opts) {
    this.opts = opts;
    this.repo = Path.of(opts.getOrDefault("repo", ".")).toAbsolutePath().normalize();
    this.stamp = opts.getOrDefault("stamp", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm'Z'")));
    this.work = repo.resolve("benchmarks/work/slack-" + stamp);
    this.paceMs = Long.parseLong(opts.getOrDefault("pace-ms", "1000"));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      opts.put(eq < 0 ? arg.replaceFirst("^--", "") : arg.substring(2, eq), eq < 0 ? "true" : arg.substring(eq + 1));
    }
    SlackBench bench = new SlackBench(opts);
    try {
      bench.run(String.join(" ", java.util.Arrays.stream(args).filter(a -> !a.startsWith("--repo=") && !a.startsWith("--stamp=")).toList()));
    } finally {
      bench.vertx.close().await();
    }
    System.exit(0);
  }

  private int opt(String name, int value) {
    return Integer.parseInt(opts.getOrDefault(name, Integer.toString(value)));
  }

  private void run(String args) throws Exception {
    Files.createDirectories(work);
    int messages = opt("messages", 240);
    int rate = opt("rate", 8);
    int burst = opt("burst", 4);
    int senders = opt("senders", 3);
    int drainSeconds = opt("drain-seconds", 240);
    HttpServer slack = vertx.createHttpServer().requestHandler(this::slackApi).listen(0, "127.0.0.1").await();
    int port = Bench.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("RELAY_DATA_DIR", work.resolve("data").toString());
    env.put("RELAY_HTTP_PORT", Integer.toString(port));
    env.put("RELAY_LOG_LEVEL", "WARN");
    env.put("RELAY_SLACK_API_URL", "http://127.0.0.1:" + slack.actualPort() + "/api");
    env.put("RELAY_SLACK_PACE_MS", Long.toString(paceMs));
    Path jar = work.resolve("scairelay-node.jar");
    Files.copy(repo.resolve("target/scairelay.jar"), jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(), "dev");
    System.out.println("== starting the node: " + String.join(" ", command));
    try (NodeProcess node = new NodeProcess(command, env, work.resolve("node.log"))) {
      node.awaitLine("ScaiRelay dev node listening", 120);
      String tokenLine = node.awaitLine("Admin token: ", 10);
      Admin admin = new Admin(vertx, port, Bench.adminToken(tokenLine));
      String roomId = admin.room("busy room").getString("room_id");
      JsonObject inbound = admin.bridge(roomId, "inbound", null);
      JsonObject outbound = admin.post("/v1/admin/bridges", new JsonObject().put("transport", "slack").put("direction", "outbound")
          .put("room_id", roomId).put("name", "to slack").put("slack_team_id", "T0BENCH").put("slack_channel_id", "C0BUSY")
          .put("slack_bot_token", "xoxb-bench-token")).await();
      String slackBridge = outbound.getString("bridge_id");

      System.out.printf("== sending %d messages at %d/s (%d senders, bursts of %d) into one room bridged to Slack (pace %d ms)%n",
          messages, rate, senders, burst, paceMs);
      List<String> sent = new ArrayList<>();
      long started = System.nanoTime();
      for (int i = 0; i < messages; i++) {
        long due = started + TimeUnit.SECONDS.toNanos(i) / rate;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        String sender = "U" + ((i / burst) % senders);
        String text = "m" + i;
        JsonObject body = new JsonObject().put("event_id", "bench-" + stamp + "-" + i)
            .put("sender", new JsonObject().put("external_id", sender).put("display_name", "Sender " + sender))
            .put("content", new JsonObject().put("msgtype", "swp.text").put("body", text));
        Buffer raw = body.toBuffer();
        int status = admin.send("/v1/bridges/" + inbound.getString("bridge_id") + "/inbound",
            Map.of("Content-Type", "application/json", "X-ScaiWave-Bridge-Signature", Signer.header(inbound.getString("shared_secret"), raw)), raw);
        if (status != 202) {
          throw new IllegalStateException("inbound message " + i + " answered " + status);
        }
        sent.add(text);
        if ((i + 1) % 60 == 0) {
          System.out.printf("  sent %d of %d; %d posts so far%n", i + 1, messages, accepted().size());
        }
      }
      double sendSeconds = (System.nanoTime() - started) / 1e9;
      System.out.printf("== sent in %.1f s; waiting up to %d s for the backlog to drain%n", sendSeconds, drainSeconds);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
      while (System.nanoTime() < deadline && covered(sent).size() < sent.size()) {
        Thread.sleep(500);
      }
      double drainedAfter = (System.nanoTime() - started) / 1e9;
      JsonObject deliveries = admin.getJson("/v1/admin/bridges/" + slackBridge + "/deliveries?limit=500");
      report(args, messages, rate, burst, senders, sent, sendSeconds, drainedAfter, deliveries);
      admin.close();
    }
    slack.close().await();
  }

  /** The Web API as Slack answers it, with Slack's per-channel limit enforced strictly (no burst allowance). */
  private void slackApi(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      String path = request.path();
      JsonObject answer;
      if (path.endsWith("/auth.test")) {
        answer = new JsonObject().put("ok", true).put("team_id", "T0BENCH").put("team", "bench").put("user_id", "U0BOT").put("bot_id", "B0BOT");
      } else if (path.endsWith("/users.info")) {
        answer = new JsonObject().put("ok", true).put("user", new JsonObject().put("id", request.getParam("user"))
            .put("profile", new JsonObject().put("display_name", request.getParam("user"))));
      } else if (path.endsWith("/chat.postMessage")) {
        JsonObject post = body.toJsonObject();
        String channel = post.getString("channel");
        long now = System.currentTimeMillis();
        boolean refused;
        synchronized (lastPostAt) {
          Long last = lastPostAt.get(channel);
          refused = last != null && now - last < paceMs - 20; // 20 ms for timer granularity
          if (!refused) {
            lastPostAt.put(channel, now);
          }
        }
        posts.add(new Post(now, channel, post.getString("text"), post.getString("username"), refused));
        if (refused) {
          request.response().setStatusCode(429).putHeader("Retry-After", "1").putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("ok", false).put("error", "ratelimited").encode());
          return;
        }
        answer = new JsonObject().put("ok", true).put("channel", channel).put("ts", "1700000000." + ts.incrementAndGet());
      } else {
        answer = new JsonObject().put("ok", false).put("error", "unknown_method");
      }
      request.response().putHeader("Content-Type", "application/json; charset=utf-8").end(answer.encode());
    });
  }

  private List<Post> accepted() {
    return posts.stream().filter(p -> !p.refused()).toList();
  }

  /** The sent messages found in accepted posts (each line of a post is one message). */
  private Set<String> covered(List<String> sent) {
    Set<String> lines = new HashSet<>();
    for (Post p : accepted()) {
      for (String line : p.text().split("\n")) {
        lines.add(line.trim());
      }
    }
    lines.retainAll(sent);
    return lines;
  }

  private void report(String args, int messages, int rate, int burst, int senders, List<String> sent, double sendSeconds, double drainedAfter,
                      JsonObject deliveries) throws IOException {
    List<Post> ok = accepted();
    long refused = posts.stream().filter(Post::refused).count();
    long minGap = Long.MAX_VALUE;
    int maxInAnySecond = 0;
    for (int i = 0; i < ok.size(); i++) {
      if (i > 0) {
        minGap = Math.min(minGap, ok.get(i).atMillis() - ok.get(i - 1).atMillis());
      }
      int inWindow = 0;
      for (int j = i; j < ok.size() && ok.get(j).atMillis() - ok.get(i).atMillis() < 1000; j++) {
        inWindow++;
      }
      maxInAnySecond = Math.max(maxInAnySecond, inWindow);
    }
    List<String> lines = new ArrayList<>();
    for (Post p : ok) {
      for (String line : p.text().split("\n")) {
        lines.add(line.trim());
      }
    }
    Map<String, Integer> times = new LinkedHashMap<>();
    lines.forEach(l -> times.merge(l, 1, Integer::sum));
    long missing = sent.stream().filter(s -> !times.containsKey(s)).count();
    long twice = times.values().stream().filter(n -> n > 1).count();
    boolean inOrder = lines.stream().filter(sent::contains).toList().equals(sent.stream().filter(times::containsKey).toList());
    Map<String, Integer> statuses = new HashMap<>();
    JsonArray rows = deliveries.getJsonArray("deliveries", new JsonArray());
    rows.forEach(row -> statuses.merge(((JsonObject) row).getString("status"), 1, Integer::sum));
    double joined = ok.isEmpty() ? 0 : (double) lines.size() / ok.size();

    JsonObject json = new JsonObject()
        .put("machine", Machine.describe())
        .put("command", "benchmarks/slack.sh " + args)
        .put("date", ZonedDateTime.now(ZoneOffset.UTC).toString())
        .put("messages_sent", messages).put("rate_per_second", rate).put("burst", burst).put("senders", senders).put("pace_ms", paceMs)
        .put("send_seconds", sendSeconds).put("drained_after_seconds", drainedAfter)
        .put("posts_accepted", ok.size()).put("posts_refused_429", refused)
        .put("min_gap_ms", ok.size() < 2 ? null : minGap).put("max_posts_in_any_second", maxInAnySecond)
        .put("messages_per_post", joined).put("missing", missing).put("sent_twice", twice).put("in_order", inOrder)
        .put("delivery_statuses", new JsonObject(new HashMap<>(statuses)));
    boolean paced = refused == 0 && maxInAnySecond <= 1;
    boolean complete = missing == 0 && twice == 0 && inOrder;
    String md = """
        # Slack pacing: one busy room to one Slack-like server

        - machine: %s, %s cores, %s; %s
        - command: `benchmarks/slack.sh %s`
        - date: %s

        %d messages at %d/s from %d senders (bursts of %d) into one room, relayed to one Slack channel whose API
        refuses (429) any post less than %d ms after the previous one.

        | figure | value | verdict |
        | --- | --- | --- |
        | posts accepted / refused with 429 | %d / %d | %s |
        | most posts in any 1 s window | %d | %s |
        | smallest gap between two posts | %s ms | |
        | messages per post (coalescing) | %.2f | |
        | messages missing / sent twice / in order | %d / %d / %s | %s |
        | sending took / backlog drained after | %.1f s / %.1f s | |
        | delivery statuses (node's delivery log) | %s | |
        """.formatted(json.getJsonObject("machine").getString("cpu"), json.getJsonObject("machine").getValue("cores"),
        json.getJsonObject("machine").getString("memory"), json.getJsonObject("machine").getString("java"), args, json.getString("date"),
        messages, rate, senders, burst, paceMs, ok.size(), refused, paced ? "paced" : "NOT paced", maxInAnySecond, paced ? "≤ 1" : "> 1",
        ok.size() < 2 ? "-" : Long.toString(minGap), joined, missing, twice, inOrder, complete ? "nothing dropped" : "MESSAGES LOST OR REORDERED",
        sendSeconds, drainedAfter, statuses);
    Path out = repo.resolve("benchmarks/results/" + stamp + "-slack");
    Files.createDirectories(out);
    Files.writeString(out.resolve("results.md"), md, StandardCharsets.UTF_8);
    Files.writeString(out.resolve("results.json"), json.encodePrettily(), StandardCharsets.UTF_8);
    System.out.println(md);
    System.out.println("results: " + out);
    if (!paced || !complete) {
      System.out.println("!! the pacing or the completeness check failed");
    }
  }
}
