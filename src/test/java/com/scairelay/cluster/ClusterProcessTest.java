package com.scairelay.cluster;

import com.scairelay.Main;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.support.TestSink.Answer;
import com.scairelay.support.TestSink.Received;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three nodes as separate processes ({@code Main run --cluster}) on one PostgreSQL, under steady
 * traffic: the owner of busy targets is killed with SIGKILL, then every node is restarted in turn
 * with SIGTERM. Every message a node accepted (201) reaches every target of its room, in room order;
 * after the kill a target is sent a message twice only when the sink had answered it just before the
 * kill; the rolling restart sends nothing twice.
 */
class ClusterProcessTest {
  private static final int ROOMS = 3;
  private static final int TARGETS_PER_ROOM = 8;
  private static final String MASTER_KEY = Base64.getEncoder().encodeToString(new byte[32]);

  private final Vertx vertx = Vertx.vertx();
  private final WebClient http = WebClient.create(vertx);
  private final TestSink sink = TestSink.start(vertx);
  private final List<Integer> httpPorts = IntStream.range(0, 3).mapToObj(i -> TestNode.freePort()).toList();
  private final List<Integer> clusterPorts = IntStream.range(0, 3).mapToObj(i -> TestNode.freePort()).toList();
  private final Process[] nodes = new Process[3];
  private final List<String> accepted = new CopyOnWriteArrayList<>();
  /** Each 5xx answer: which node, when, and what it said (the node's log is target/cluster-process-test/node<i>.log). */
  private final Queue<String> serverErrors = new ConcurrentLinkedQueue<>();
  private PgConnectOptions pg;
  private Path logs;

  @AfterEach
  void stop() {
    for (Process node : nodes) {
      if (node != null) {
        node.destroyForcibly();
      }
    }
    sink.close();
    vertx.close().await();
  }

  @Test
  void aKilledOwnerLosesItsTargetsWithinTheBoundAndARollingRestartLosesNothing() throws Exception {
    pg = TestPostgres.freshDatabase();
    logs = Files.createDirectories(Path.of("target", "cluster-process-test"));
    for (int i = 0; i < 3; i++) {
      nodes[i] = start(i);
    }
    for (int i = 0; i < 3; i++) {
      awaitReady(i, 3);
    }

    List<String> rooms = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    Map<String, String> roomOfTarget = new HashMap<>();
    for (int r = 0; r < ROOMS; r++) {
      String roomId = call(0, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "room " + r)).getString("room_id");
      rooms.add(roomId);
      for (int t = 0; t < TARGETS_PER_ROOM; t++) {
        String path = "/r" + r + "/t" + t;
        sink.answer(path, x -> Answer.delayed(200, 10));
        JsonObject bridge = call(t % 3, HttpMethod.POST, "/v1/admin/bridges", new JsonObject().put("transport", "custom")
            .put("direction", "outbound").put("room_id", roomId).put("name", "t" + t).put("outbound_webhook", sink.url(path)));
        targets.add(bridge.getString("bridge_id"));
        roomOfTarget.put(bridge.getString("bridge_id"), path);
      }
    }

    // Kill -9 the node that owns the most targets, mid-load.
    AtomicBoolean load = new AtomicBoolean(true);
    Future<Void> traffic = traffic(rooms, load);
    Thread.sleep(1_500);
    Map<String, Integer> owned = new HashMap<>();
    Map<String, String> ownerOf = new HashMap<>();
    for (String target : targets) {
      String owner = call(0, HttpMethod.GET, "/v1/admin/cluster?target_id=" + target, null).getJsonObject("target").getString("owner");
      ownerOf.put(target, owner);
      owned.merge(owner, 1, Integer::sum);
    }
    String victimId = owned.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    int victim = indexOf(victimId);
    long killedAt = System.nanoTime();
    nodes[victim].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    long deadAt = System.nanoTime(); // an answer may reach the sink between the signal and the process's end
    Thread.sleep(3_000);
    load.set(false);
    traffic.await();

    List<String> victimPaths = targets.stream().filter(t -> ownerOf.get(t).equals(victimId)).map(roomOfTarget::get).toList();
    assertThat(victimPaths).isNotEmpty();
    Map<String, List<String>> expected = awaitEverythingDelivered(rooms, targets, roomOfTarget);
    long failoverNanos = Long.MAX_VALUE;
    int duplicates = 0;
    for (String target : targets) {
      String path = roomOfTarget.get(target);
      List<Received> got = sink.answeredOk(path);
      assertThat(firstOccurrences(got)).as("what %s received, duplicates aside", path).isEqualTo(expected.get(path));
      Set<String> seen = new java.util.HashSet<>();
      for (Received r : got) {
        if (!seen.add(r.eventId())) {
          duplicates++;
          Received first = got.stream().filter(x -> x.eventId().equals(r.eventId())).findFirst().orElseThrow();
          assertThat(victimPaths).as("only a target of the killed node is sent anything twice").contains(path);
          assertThat(first.atNanos()).as("a message sent twice had been answered before the killed process was gone").isLessThan(deadAt);
        }
      }
      if (victimPaths.contains(path)) {
        failoverNanos = Math.min(failoverNanos, got.stream().mapToLong(Received::atNanos).filter(at -> at > killedAt).min().orElse(Long.MAX_VALUE));
      }
    }
    double failoverSeconds = (failoverNanos - killedAt) / 1e9;
    System.out.printf("cluster failover: first delivery to a killed node's target %.2f s after SIGKILL; %d messages sent twice, %d targets moved%n",
        failoverSeconds, duplicates, victimPaths.size());
    assertThat(failoverSeconds).as("failover bound").isLessThan(10.0);
    assertThat(duplicates).as("at most the attempt each moved target had open or unwritten").isLessThanOrEqualTo(2 * victimPaths.size());
    assertThat(serverErrors).as("5xx answers").isEmpty();

    // The killed node comes back; then every node is restarted in turn with SIGTERM, under load.
    nodes[victim] = start(victim);
    for (int i = 0; i < 3; i++) {
      awaitReady(i, 3);
    }
    Map<String, Integer> before = new HashMap<>();
    targets.forEach(t -> before.put(roomOfTarget.get(t), sink.answeredOk(roomOfTarget.get(t)).size()));
    load.set(true);
    traffic = traffic(rooms, load);
    for (int i = 0; i < 3; i++) {
      Thread.sleep(700);
      nodes[i].destroy();
      assertThat(nodes[i].waitFor(30, TimeUnit.SECONDS)).as("node %d drained and stopped on SIGTERM", i).isTrue();
      assertThat(nodes[i].exitValue()).as("exit code after SIGTERM").isIn(0, 143);
      nodes[i] = start(i);
      awaitReady(i, 3);
    }
    Thread.sleep(700);
    load.set(false);
    traffic.await();
    expected = awaitEverythingDelivered(rooms, targets, roomOfTarget);
    for (String target : targets) {
      String path = roomOfTarget.get(target);
      List<Received> got = sink.answeredOk(path);
      List<String> after = got.subList(before.get(path), got.size()).stream().map(Received::eventId).toList();
      assertThat(after).as("%s during the rolling restart: nothing twice", path).doesNotHaveDuplicates();
      assertThat(firstOccurrences(got)).as("what %s received", path).isEqualTo(expected.get(path));
    }
    assertThat(serverErrors).as("5xx answers during the rolling restart").isEmpty();
  }

  /** Every event of every room (what the nodes stored, which includes all they accepted) reaches each of its targets. */
  private Map<String, List<String>> awaitEverythingDelivered(List<String> rooms, List<String> targets, Map<String, String> roomOfTarget) {
    Pool sql = PgBuilder.pool().connectingTo(pg).using(vertx).build();
    try {
      Map<String, List<String>> byRoom = new HashMap<>();
      for (String roomId : rooms) {
        byRoom.put(roomId, sql.preparedQuery("SELECT id FROM events WHERE room_id = $1 ORDER BY seq").execute(Tuple.of(roomId)).await()
            .stream().map(row -> row.getString(0)).toList());
      }
      assertThat(byRoom.values().stream().flatMap(List::stream)).containsAll(accepted);
      Map<String, List<String>> expected = new HashMap<>();
      for (String target : targets) {
        String path = roomOfTarget.get(target);
        String roomId = rooms.get(Integer.parseInt(path.substring(2, path.indexOf('/', 1))));
        expected.put(path, byRoom.get(roomId));
      }
      await().atMost(60, TimeUnit.SECONDS).pollInterval(250, TimeUnit.MILLISECONDS).until(() -> expected.entrySet().stream()
          .allMatch(e -> firstOccurrences(sink.answeredOk(e.getKey())).size() >= e.getValue().size()));
      return expected;
    } finally {
      sql.close().await();
    }
  }

  private static List<String> firstOccurrences(List<Received> got) {
    return List.copyOf(new LinkedHashSet<>(got.stream().map(Received::eventId).toList()));
  }

  /** Posts to every room in turn, each post to the next node that answers, as a load balancer would; until {@code load} is false. */
  private Future<Void> traffic(List<String> rooms, AtomicBoolean load) {
    Promise<Void> done = Promise.promise();
    AtomicInteger n = new AtomicInteger();
    vertx.runOnContext(v -> postNext(rooms, load, n, done));
    return done.future();
  }

  private void postNext(List<String> rooms, AtomicBoolean load, AtomicInteger n, Promise<Void> done) {
    if (!load.get()) {
      done.complete();
      return;
    }
    int i = n.getAndIncrement();
    String roomId = rooms.get(i % rooms.size());
    JsonObject body = new JsonObject().put("sender", "@load:example.org").put("display_name", "Load")
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "message " + i));
    postToAnyNode(roomId, body, i % 3, 0)
        .onComplete(ar -> vertx.setTimer(8, t -> postNext(rooms, load, n, done)));
  }

  private Future<Void> postToAnyNode(String roomId, JsonObject body, int node, int tried) {
    if (tried == 3) {
      return Future.succeededFuture();
    }
    return http.post(httpPorts.get(node), "127.0.0.1", "/v1/rooms/" + roomId + "/events")
        .putHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN).timeout(5_000).sendJsonObject(body)
        .transform(ar -> {
          if (ar.succeeded() && ar.result().statusCode() == 201) {
            accepted.add(ar.result().bodyAsJsonObject().getString("event_id"));
            return Future.succeededFuture();
          }
          if (ar.succeeded() && ar.result().statusCode() >= 500) {
            serverErrors.add("node " + node + " at " + Instant.now() + ": " + ar.result().statusCode() + " " + ar.result().bodyAsString());
          }
          return postToAnyNode(roomId, body, (node + 1) % 3, tried + 1);
        });
  }

  private Process start(int index) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--cluster"));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("RELAY_"));
    Map<String, String> env = builder.environment();
    env.put("RELAY_PG_URL", "postgresql://" + pg.getUser() + ":" + pg.getPassword() + "@127.0.0.1:" + pg.getPort() + "/" + pg.getDatabase());
    env.put("RELAY_ADMIN_TOKEN", TestNode.ADMIN_TOKEN);
    env.put("RELAY_SECRETS_MASTER_KEY", MASTER_KEY);
    env.put("RELAY_HTTP_PORT", Integer.toString(httpPorts.get(index)));
    env.put("RELAY_HTTP_INSTANCES", "1");
    env.put("RELAY_DATA_DIR", logs.resolve("data" + index).toString());
    env.put("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true");
    env.put("RELAY_CLUSTER_NAME", "process-test-" + clusterPorts.get(0));
    env.put("RELAY_CLUSTER_PORT", Integer.toString(clusterPorts.get(index)));
    env.put("RELAY_CLUSTER_MEMBERS", String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList()));
    builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("node" + index + ".log").toFile()));
    return builder.start();
  }

  private void awaitReady(int index, int members) {
    await().atMost(90, TimeUnit.SECONDS).pollInterval(200, TimeUnit.MILLISECONDS).ignoreExceptions().until(() -> {
      assertThat(nodes[index].isAlive()).as("node %d is running (see %s)", index, logs.resolve("node" + index + ".log")).isTrue();
      HttpResponse<Buffer> ready = http.get(httpPorts.get(index), "127.0.0.1", "/health/ready").send().await();
      return ready.statusCode() == 200 && ready.bodyAsJsonObject().getJsonObject("cluster").getInteger("members") == members;
    });
  }

  private int indexOf(String nodeId) {
    for (int i = 0; i < 3; i++) {
      if (nodes[i].isAlive() && call(i, HttpMethod.GET, "/v1/admin/cluster", null).getString("node_id").equals(nodeId)) {
        return i;
      }
    }
    throw new AssertionError("no node " + nodeId);
  }

  private JsonObject call(int index, HttpMethod method, String path, JsonObject body) {
    var request = http.request(method, httpPorts.get(index), "127.0.0.1", path).putHeader("Authorization", "Bearer " + TestNode.ADMIN_TOKEN);
    HttpResponse<Buffer> response = (body == null ? request.send() : request.sendJsonObject(body)).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isIn(200, 201);
    return response.bodyAsJsonObject();
  }
}
