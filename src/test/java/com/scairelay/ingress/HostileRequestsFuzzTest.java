package com.scairelay.ingress;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.scairelay.support.TestNode;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Issue 11, the fuzz test: random and malformed requests for every public route against one real
 * node, sent over raw sockets so that any byte can be sent. For every request: an answer within
 * {@link #ANSWER_BOUND_MS}, no 5xx (except the documented 503 + Retry-After of a paused bridge), a
 * complete problem when the body is a problem, no stack trace or parser internals in any body, no
 * event stored unless a validly signed inbound webhook was answered 202, no ERROR logged and no log
 * line longer than {@link #LOG_LINE_BOUND}.
 *
 * <p>Tries come from {@code jqwik.tries.default} (src/test/resources/junit-platform.properties, 4,000
 * in CI); the seed is fixed so CI is reproducible. README "Code layout and tests" has the longer run.
 */
class HostileRequestsFuzzTest {
  static final int ANSWER_BOUND_MS = 3_000;
  static final int LOG_LINE_BOUND = 2_000;
  static final List<String> LEAKS = List.of("Exception", "at com.", "at io.", "com.fasterxml", "[Source:", "Caused by");

  static TestNode node;
  static ListAppender<ILoggingEvent> logs;
  static PatternLayout layout;
  /** Real ids the admin routes may change or delete freely. */
  static final Map<String, List<String>> victims = new HashMap<>();
  /** Inbound fixtures: id → secret. Never touched by an admin route of the fuzz. */
  static final Map<String, String> inboundSecrets = new HashMap<>();
  static String liveBridge;
  static String pausedBridge;
  static String outboundBridge;
  static String scopedKey;
  static long storedByBridges;
  static int requests;
  static final Map<Integer, Integer> statuses = new java.util.TreeMap<>();

  @BeforeContainer
  static void start() {
    node = TestNode.start();
    String room = node.createRoom("fuzz").getString("room_id");
    JsonObject live = node.createBridge(room, "inbound");
    JsonObject paused = node.createBridge(room, "inbound");
    JsonObject outbound = node.createBridge(room, "outbound");
    liveBridge = live.getString("bridge_id");
    pausedBridge = paused.getString("bridge_id");
    outboundBridge = outbound.getString("bridge_id");
    inboundSecrets.put(liveBridge, live.getString("shared_secret"));
    inboundSecrets.put(pausedBridge, paused.getString("shared_secret"));
    inboundSecrets.put(outboundBridge, outbound.getString("shared_secret"));
    assertThat(node.send(node.admin(HttpMethod.POST, "/v1/admin/bridges/" + pausedBridge + "/pause"), null).statusCode()).isEqualTo(200);

    String victimRoom = node.createRoom("victim").getString("room_id");
    victims.put("room", List.of(victimRoom, room));
    victims.put("bridge", List.of(node.createBridge(victimRoom, "inbound").getString("bridge_id"),
        node.createBridge(victimRoom, "both").getString("bridge_id")));
    victims.put("webhook", List.of(created("/v1/admin/webhooks", validWebhook(), "webhook_id")));
    victims.put("app", List.of(created("/v1/admin/applications", validApplication(), "client_id")));
    victims.put("key", List.of(created("/v1/admin/api-keys", validApiKey(), "key_id")));
    HttpResponse<Buffer> key = node.send(node.admin(HttpMethod.POST, "/v1/admin/api-keys"),
        new JsonObject().put("name", "reader").put("scopes", new JsonArray().add("rooms:read")));
    scopedKey = key.bodyAsJsonObject().getString("api_key");
    storedByBridges = storedByBridges();

    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    layout = new PatternLayout();
    layout.setContext(context);
    layout.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{30} - %msg%n");
    layout.start();
    logs = new ListAppender<>();
    logs.setContext(context);
    logs.start();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logs);
  }

  @AfterContainer
  static void stop() {
    LoggerFactory.getLogger(HostileRequestsFuzzTest.class).info("fuzz: {} requests, answers by status {}", requests, statuses);
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logs);
    node.close();
  }

  private static String created(String path, JsonObject body, String idField) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, path), body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject().getString(idField);
  }

  private static long storedByBridges() {
    return (Long) node.queryValue("SELECT count(*) FROM events WHERE origin_bridge_id IS NOT NULL");
  }

  // ---------------------------------------------------------------------------------------------
  // The property

  @Property(seed = "4711201108", shrinking = ShrinkingMode.BOUNDED)
  void everyRequestGetsAPromptCleanAnswer(@ForAll("requests") Fuzzed request) throws Exception {
    int logMark;
    synchronized (logs.list) {
      logMark = logs.list.size();
    }
    byte[] bytes = request.toBytes();
    long started = System.nanoTime();
    Answer answer = exchange(bytes, request.oversized());
    long millis = (System.nanoTime() - started) / 1_000_000;
    requests++;
    statuses.merge(answer.status, 1, Integer::sum);
    String what = request + " -> " + answer.status + " in " + millis + " ms: " + answer.text();

    assertThat(millis).as("answered within the bound: " + what).isLessThan(ANSWER_BOUND_MS);
    if (answer.status >= 500) {
      boolean pausedAnswer = answer.status == 503 && answer.headers.containsKey("retry-after")
          && request.target.startsWith("/v1/bridges/") && answer.text().contains("is paused");
      assertThat(pausedAnswer).as("no 5xx but a paused bridge's 503: " + what).isTrue();
    }
    String contentType = answer.headers.getOrDefault("content-type", "");
    if (contentType.startsWith("application/problem+json") && !request.method.equals("HEAD")) {
      JsonObject problem = new JsonObject(answer.text());
      assertThat(problem.fieldNames()).as("a complete problem: " + what).contains("type", "title", "status", "detail");
      assertThat(problem.getInteger("status")).as(what).isEqualTo(answer.status);
    }
    for (String leak : LEAKS) {
      assertThat(answer.text()).as("no internals in the body: " + what).doesNotContain(leak);
    }

    long stored = storedByBridges();
    boolean signed = request.signature == Sig.VALID || request.signature == Sig.VALID_AMONG_WRONG;
    if (answer.status / 100 == 2 && request.target.startsWith("/v1/bridges/")) {
      assertThat(signed).as("a 2xx from an inbound route only for a valid signature: " + what).isTrue();
    }
    long expected = storedByBridges + (answer.status == 202 && signed && request.target.startsWith("/v1/bridges/") ? 1 : 0);
    assertThat(stored).as("events stored by bridges (202s of validly signed webhooks): " + what).isEqualTo(expected);
    storedByBridges = stored;

    List<ILoggingEvent> logged;
    synchronized (logs.list) {
      logged = new ArrayList<>(logs.list.subList(logMark, logs.list.size()));
    }
    for (ILoggingEvent event : logged) {
      String formatted = layout.doLayout(event);
      assertThat(event.getLevel().isGreaterOrEqual(Level.ERROR)).as("no ERROR logged: " + formatted + " for " + what).isFalse();
      for (String line : formatted.split("\n")) {
        assertThat(line.length()).as("log line within " + LOG_LINE_BOUND + " chars: " + line.substring(0, Math.min(300, line.length()))
            + "… for " + what).isLessThanOrEqualTo(LOG_LINE_BOUND);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  enum Sig { ABSENT, GARBAGE, MALFORMED, WRONG, STALE, OTHER_SECRET, VALID, VALID_AMONG_WRONG }

  enum Transfer { LENGTH, CHUNKED, NO_LENGTH }

  /** One generated request. {@code secret} is the inbound fixture secret its signature is made with, if any. */
  record Fuzzed(String method, String target, List<String[]> headers, Sig signature, String secret, byte[] body, Transfer transfer) {
    boolean oversized() {
      return body.length > 262_144;
    }

    byte[] toBytes() {
      ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 512);
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
      head.append("Host: 127.0.0.1:").append(node.port()).append("\r\n");
      head.append("Connection: close\r\n");
      for (String[] header : headers) {
        head.append(header[0]).append(": ").append(header[1]).append("\r\n");
      }
      String sig = signatureHeader();
      if (sig != null) {
        head.append(SignatureScheme.HEADER).append(": ").append(sig).append("\r\n");
      }
      switch (transfer) {
        case LENGTH -> head.append("Content-Length: ").append(body.length).append("\r\n");
        case CHUNKED -> head.append("Transfer-Encoding: chunked\r\n");
        case NO_LENGTH -> { }
      }
      head.append("\r\n");
      out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
      if (transfer == Transfer.CHUNKED) {
        int at = 0;
        while (at < body.length) {
          int n = Math.min(body.length - at, 1 + (at % 997));
          out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(body, at, n);
          out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
          at += n;
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      } else if (transfer == Transfer.LENGTH) {
        out.writeBytes(body);
      }
      return out.toByteArray();
    }

    String signatureHeader() {
      long now = node.clock.instant().getEpochSecond();
      String key = secret == null ? "srb_not-a-secret" : secret;
      Buffer raw = Buffer.buffer(transfer == Transfer.NO_LENGTH ? new byte[0] : body);
      return switch (signature) {
        case ABSENT -> null;
        case GARBAGE -> "garbage";
        case MALFORMED -> "t=,v1=zz,v1";
        case WRONG -> "t=" + now + ",v1=" + "ab".repeat(32);
        case STALE -> SignatureScheme.header(key, now - 3_600, raw);
        case OTHER_SECRET -> SignatureScheme.header("srb_other", now, raw);
        case VALID -> SignatureScheme.header(key, now, raw);
        case VALID_AMONG_WRONG -> "t=" + now + ",v1=" + "00".repeat(32) + "," + SignatureScheme.header(key, now, raw).replaceFirst("^t=\\d+,", "");
      };
    }

    @Override
    public String toString() {
      String shown = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
      StringBuilder hs = new StringBuilder();
      headers.forEach(h -> hs.append(h[0]).append(": ").append(h[1].length() > 60 ? h[1].substring(0, 60) + "…" : h[1]).append("; "));
      return method + " " + (target.length() > 300 ? target.substring(0, 300) + "…(" + target.length() + ")" : target)
          + " [" + hs + "sig " + signature + ", " + transfer + "] body(" + body.length + ") " + shown;
    }
  }

  /** Route templates; {kind} is replaced by an id of that kind. */
  static final List<String[]> ROUTES = List.of(
      new String[] {"GET", "/health/live"}, new String[] {"GET", "/health/ready"},
      new String[] {"POST", "/v1/bridges/{inbound}/inbound"}, new String[] {"POST", "/v1/bridges/{inbound}/inbound"},
      new String[] {"POST", "/v1/bridges/{inbound}/inbound"}, new String[] {"POST", "/v1/bridges/{inbound}/other"},
      new String[] {"POST", "/v1/admin/bridges"}, new String[] {"GET", "/v1/admin/bridges"},
      new String[] {"GET", "/v1/admin/bridges/{bridge}"}, new String[] {"POST", "/v1/admin/bridges/{bridge}/pause"},
      new String[] {"POST", "/v1/admin/bridges/{bridge}/resume"}, new String[] {"POST", "/v1/admin/bridges/{bridge}/rotate-secret"},
      new String[] {"DELETE", "/v1/admin/bridges/{bridge}"}, new String[] {"GET", "/v1/admin/bridges/{bridge}/deliveries"},
      new String[] {"POST", "/v1/rooms"}, new String[] {"GET", "/v1/rooms/{room}"},
      new String[] {"POST", "/v1/rooms/{room}/events"}, new String[] {"GET", "/v1/rooms/{room}/events"},
      new String[] {"GET", "/v1/rooms/{room}/participants"}, new String[] {"GET", "/v1/rooms/{room}/stream"},
      new String[] {"GET", "/v1/admin/audit"},
      new String[] {"POST", "/v1/admin/webhooks"}, new String[] {"GET", "/v1/admin/webhooks"},
      new String[] {"GET", "/v1/admin/webhooks/{webhook}"}, new String[] {"PATCH", "/v1/admin/webhooks/{webhook}"},
      new String[] {"DELETE", "/v1/admin/webhooks/{webhook}"}, new String[] {"POST", "/v1/admin/webhooks/{webhook}/pause"},
      new String[] {"POST", "/v1/admin/webhooks/{webhook}/resume"}, new String[] {"POST", "/v1/admin/webhooks/{webhook}/rotate-secret"},
      new String[] {"GET", "/v1/admin/webhooks/{webhook}/deliveries"},
      new String[] {"POST", "/v1/events"},
      new String[] {"POST", "/v1/admin/applications"}, new String[] {"GET", "/v1/admin/applications"},
      new String[] {"GET", "/v1/admin/applications/{app}"}, new String[] {"PATCH", "/v1/admin/applications/{app}"},
      new String[] {"DELETE", "/v1/admin/applications/{app}"}, new String[] {"POST", "/v1/admin/applications/{app}/rotate-secret"},
      new String[] {"POST", "/v1/admin/api-keys"}, new String[] {"GET", "/v1/admin/api-keys"},
      new String[] {"DELETE", "/v1/admin/api-keys/{key}"},
      new String[] {"POST", "/oauth/token"}, new String[] {"GET", "/.well-known/jwks.json"},
      new String[] {"POST", "/v1/admin/signing-keys/rotate"},
      new String[] {"GET", "/"}, new String[] {"GET", "/v1"}, new String[] {"POST", "/v2/unknown/{room}"});

  record Route(String method, String template) { }

  record Target(Route route, String path, String inboundSecret) { }

  @Provide
  Arbitrary<Fuzzed> requests() {
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(7, anyRequest()), net.jqwik.api.Tuple.of(1, signedInbound()));
  }

  /** Well-formed webhooks to the live bridge, signed rightly or nearly: the ones that may store an event. */
  Arbitrary<Fuzzed> signedInbound() {
    return Combinators.combine(validBody("/v1/bridges/{inbound}/inbound"),
            Arbitraries.of(Sig.VALID, Sig.VALID, Sig.VALID_AMONG_WRONG, Sig.WRONG, Sig.STALE, Sig.OTHER_SECRET),
            Arbitraries.of(Transfer.LENGTH, Transfer.CHUNKED))
        .as((body, sig, transfer) -> new Fuzzed("POST", "/v1/bridges/" + liveBridge + "/inbound",
            List.<String[]>of(new String[] {"Content-Type", "application/json"}), sig, inboundSecrets.get(liveBridge), utf8(body), transfer));
  }

  Arbitrary<Fuzzed> anyRequest() {
    List<String[]> inbound = ROUTES.stream().filter(r -> r[1].startsWith("/v1/bridges/")).toList();
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.of(ROUTES)), net.jqwik.api.Tuple.of(1, Arbitraries.of(inbound)))
        .map(r -> new Route(r[0], r[1]))
        .flatMap(route -> targets(route).flatMap(target -> Combinators.combine(
            methods(route), queries(), auths(), contentTypes(target), extraHeaders(),
            Arbitraries.of(Sig.class), bodies(route), Arbitraries.of(Transfer.LENGTH, Transfer.LENGTH, Transfer.LENGTH, Transfer.CHUNKED, Transfer.NO_LENGTH))
            .as((method, query, auth, contentType, extra, sig, body, transfer) -> {
              List<String[]> headers = new ArrayList<>();
              auth.ifPresent(h -> headers.add(h));
              contentType.ifPresent(h -> headers.add(h));
              headers.addAll(extra);
              return new Fuzzed(method, target.path + query, headers, sig, target.inboundSecret, body, transfer);
            })));
  }

  Arbitrary<String> methods(Route route) {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.just(route.method)),
        net.jqwik.api.Tuple.of(3, Arbitraries.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("TRACE", "CONNECT", "PRI", "FOO", "get", "G=T", "PROPFIND", "X".repeat(40))));
  }

  Arbitrary<Target> targets(Route route) {
    String template = route.template;
    int open = template.indexOf('{');
    if (open < 0) {
      return Arbitraries.frequencyOf(
          net.jqwik.api.Tuple.of(8, Arbitraries.just(template)),
          net.jqwik.api.Tuple.of(1, Arbitraries.of(template + "/", "/" + template, template + "/..", "/v1/rooms/../.." + template,
              template.replace("/v1/", "/v1/./"), template.toUpperCase(Locale.ROOT), template + "%2F", template + ";x=1")))
          .map(path -> new Target(route, path, null));
    }
    String kind = template.substring(open + 1, template.indexOf('}'));
    Arbitrary<String[]> real;
    if (kind.equals("inbound")) {
      real = Arbitraries.of(List.of(liveBridge, liveBridge, liveBridge, pausedBridge, outboundBridge, victims.get("bridge").get(0)))
          .map(id -> new String[] {id, inboundSecrets.get(id)});
    } else {
      real = Arbitraries.of(victims.get(kind)).map(id -> new String[] {id, null});
    }
    Arbitrary<String[]> ids = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, real),
        net.jqwik.api.Tuple.of(4, real.flatMap(pair -> idVariants(pair[0]).map(v -> new String[] {v, pair[1]}))),
        net.jqwik.api.Tuple.of(3, odd().map(v -> new String[] {v, null})));
    return ids.map(pair -> new Target(route, template.replace("{" + kind + "}", pair[0]), pair[1]));
  }

  /** The same id written differently: escaped, with dot segments, cased, padded. */
  Arbitrary<String> idVariants(String id) {
    StringBuilder escaped = new StringBuilder();
    for (char c : id.toCharArray()) {
      escaped.append(String.format("%%%02X", (int) c));
    }
    return Arbitraries.of(escaped.toString(), "%" + Integer.toHexString(id.charAt(0)) + id.substring(1), "./" + id, "x/../" + id,
        id + "/", id + "%20", " " + id, id.toUpperCase(Locale.ROOT), id + id, id.substring(0, id.length() - 1), id + "%00",
        id.replace("_", "%5f"), id + "?", id + "#frag", "%2e%2e/" + id);
  }

  /** Ids no node ever issued. */
  Arbitrary<String> odd() {
    return Arbitraries.oneOf(
        Arbitraries.of("", "brg_000000000000000000000000", "room_ffffffffffffffffffffffff", "0", "-1", "null", "..", ".", "%2e%2e",
            "%00", "%zz", "%", "%E0%A4", "%C0%AF", "%ED%A0%80", "%FF", "%25", "a%2Fb", "ü", "😀", "\u202e", "%F0%9F%98%80",
            "x".repeat(5_000), "x".repeat(300), "%41".repeat(2_000), "{id}", ":id", "*", "a b", "a\tb", "..%2f..%2fetc%2fpasswd",
            "1e309", "99999999999999999999999"),
        Arbitraries.strings().withCharRange('!', '~').ofMaxLength(40).filter(s -> !s.contains("#") && !s.contains("?")),
        Arbitraries.strings().all().excludeChars('\r', '\n', ' ', '#', '?').ofMaxLength(12));
  }

  Arbitrary<String> queries() {
    Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of("limit", "after", "category", "action", "x", "", "%zz", "a%00", "ü"),
        Arbitraries.strings().withCharRange('!', '~').excludeChars('#', '&', '=').ofMaxLength(8));
    Arbitrary<String> value = Arbitraries.oneOf(
        Arbitraries.of("", "0", "-1", "1", "100", "1000000", "99999999999999999999", "1.5", "abc", "%zz", "%00", "%E0%A4", "%C0%AF",
            "%FF%FE", "ü", "%C3%BC", "SECURITY", "admin", "null", "true", "x".repeat(3_000), "%", "%%", "+", "a+b%20c", "ev_0"),
        Arbitraries.strings().withCharRange('!', '~').excludeChars('#', '&').ofMaxLength(20));
    Arbitrary<String> pair = Combinators.combine(key, value, Arbitraries.of("=", "", "==")).as((k, v, eq) -> k + eq + v);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, Arbitraries.just("")),
        net.jqwik.api.Tuple.of(5, pair.list().ofMinSize(1).ofMaxSize(4).map(l -> "?" + String.join("&", l))),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("?", "??", "?&&&", "?=", "?limit=1&limit=2", "?" + "a=1&".repeat(500))));
  }

  Arbitrary<java.util.Optional<String[]>> auths() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, Arbitraries.just(java.util.Optional.<String[]>empty())),
        net.jqwik.api.Tuple.of(6, Arbitraries.just(java.util.Optional.of(new String[] {"Authorization", "Bearer " + TestNode.ADMIN_TOKEN}))),
        net.jqwik.api.Tuple.of(2, Arbitraries.just(java.util.Optional.of(new String[] {"Authorization", "Bearer " + scopedKey}))),
        net.jqwik.api.Tuple.of(3, Arbitraries.of("garbage", "Bearer", "Bearer ", "Bearer  " + TestNode.ADMIN_TOKEN, "bearer " + TestNode.ADMIN_TOKEN,
                "Basic " + java.util.Base64.getEncoder().encodeToString("a:b".getBytes(StandardCharsets.UTF_8)), "Basic %%%", "Bearer sak_nope",
                "Bearer sak_", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer a.b.c", "Bearer " + "x".repeat(4_000),
                "Bearer " + TestNode.ADMIN_TOKEN + "x", "Digest x", "Bearer \u00ff\u00fe")
            .map(v -> java.util.Optional.of(new String[] {"Authorization", v}))));
  }

  Arbitrary<java.util.Optional<String[]>> contentTypes(Target target) {
    String natural = target.route.template.equals("/oauth/token") ? "application/x-www-form-urlencoded" : "application/json";
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.just(java.util.Optional.of(new String[] {"Content-Type", natural}))),
        net.jqwik.api.Tuple.of(2, Arbitraries.just(java.util.Optional.<String[]>empty())),
        net.jqwik.api.Tuple.of(4, Arbitraries.of("application/json", "application/json; charset=utf-16", "application/json; charset=\"x",
                "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain", "%%%",
                "application/problem+json", "*/*", "", ";", "application/json;;;;", "APPLICATION/JSON", "application/" + "j".repeat(3_000))
            .map(v -> java.util.Optional.of(new String[] {"Content-Type", v}))));
  }

  Arbitrary<List<String[]>> extraHeaders() {
    Arbitrary<String[]> header = Arbitraries.oneOf(
        Arbitraries.of(new String[] {"Content-Encoding", "gzip"}, new String[] {"Content-Encoding", "br"}, new String[] {"Content-Encoding", "x"},
            new String[] {"Expect", "100-continue"}, new String[] {"Expect", "garbage"}, new String[] {"X-Request-Id", "x".repeat(3_000)},
            new String[] {"X-Request-Id", "\u00ff%00"}, new String[] {"Accept", "application/xml"}, new String[] {"Origin", "http://evil.example"},
            new String[] {"X-Forwarded-For", "1.2.3.4, ::1"}, new String[] {"Upgrade", "h2c"}, new String[] {"Cookie", "a=" + "b".repeat(2_000)},
            new String[] {SignatureScheme.HEADER, "t=1,v1=00"}, new String[] {"Authorization", "Bearer second"}),
        Combinators.combine(Arbitraries.strings().alpha().numeric().withChars('-').ofMinLength(1).ofMaxLength(20),
            Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40)).as((k, v) -> new String[] {"X-" + k, v.trim()}));
    return header.list().ofMaxSize(3);
  }

  // ---------------------------------------------------------------------------------------------
  // Bodies

  Arbitrary<byte[]> bodies(Route route) {
    Arbitrary<byte[]> valid = validBody(route.template).map(HostileRequestsFuzzTest::utf8);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, valid),
        net.jqwik.api.Tuple.of(3, json(4).map(HostileRequestsFuzzTest::utf8)),
        net.jqwik.api.Tuple.of(2, valid.flatMap(b -> Arbitraries.integers().between(0, Math.max(0, b.length - 1))
            .map(cut -> java.util.Arrays.copyOf(b, cut)))),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(
            "", "null", "[]", "{}", "\"x\"", "1", "true", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\\ud800\"}",
            "{\"a\":1e999999}", "{\"a\":-1e-999999}", "{\"a\":123456789012345678901234567890123456789}", "{\"a\":" + "9".repeat(5_000) + "}",
            "[".repeat(70) + "]".repeat(70), "[".repeat(5_000), "{\"a\":".repeat(3_000), "{\"a\":1,\"a\":2}", "{\"a\":NaN}", "{'a':1}",
            "{\"a\":1}garbage", "{\"a\":1}{\"b\":2}", "\ufeff{}", "{\"event_id\":\"\\u0000\"}", "name=x&name=y", "--xyz\r\nbroken",
            "{\"" + "k".repeat(10_000) + "\":1}", wideArray(10_001), "{\"a\":\"\u0000\"}", "/* c */ {}")
            .map(HostileRequestsFuzzTest::utf8)),
        net.jqwik.api.Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(300)),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'},
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'},
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xE0, (byte) 0x80, (byte) 0xAF, '"', '}'},
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'},
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80, '"', '}'},
            new byte[] {(byte) 0xFF, (byte) 0xFE, '{', 0, '}', 0}, new byte[] {(byte) 0xFE, (byte) 0xFF, 0, '{', 0, '}'},
            new byte[] {0, 0, 0, 0}, new byte[] {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0x80, '"', '}'})),
        net.jqwik.api.Tuple.of(1, gzipped(valid)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new byte[300_000])));
  }

  private static String wideArray(int n) {
    StringBuilder s = new StringBuilder("{\"a\":[");
    for (int i = 0; i < n; i++) {
      s.append(i == 0 ? "" : ",").append(i);
    }
    return s.append("]}").toString();
  }

  private static Arbitrary<byte[]> gzipped(Arbitrary<byte[]> plain) {
    return plain.map(bytes -> {
      try {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
          gzip.write(bytes);
        }
        return out.toByteArray();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Strings with the awkward characters: NUL, lone surrogates, right-to-left marks, non-BMP, quotes. */
  static Arbitrary<String> nasty() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(20),
        Arbitraries.strings().withChars('\u0000', '\ud800', '\udfff', '\u202e', '"', '\\', '\u2028', '\n', 'a', '\uffff').ofMaxLength(10),
        Arbitraries.of("", " ", "x".repeat(300), "x".repeat(70_000), "😀", "ex-1", "U1", "swp.text", "https://x.example/a.png",
            "http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "javascript:alert(1)", "custom", "inbound", "both", "SECURITY"));
  }

  static Arbitrary<Object> scalar() {
    return Arbitraries.oneOf(nasty().map(s -> (Object) s),
        Arbitraries.of(0, -1, 1, 100, 101, Integer.MAX_VALUE, Long.MIN_VALUE, 1.5, Double.MAX_VALUE, true, false).map(o -> (Object) o),
        Arbitraries.just((Object) null),
        Arbitraries.bigIntegers().between(java.math.BigInteger.TEN.pow(30).negate(), java.math.BigInteger.TEN.pow(30)).map(o -> (Object) o));
  }

  /** Random JSON up to {@code depth} levels, as text. */
  static Arbitrary<String> json(int depth) {
    Arbitrary<String> leaf = scalar().map(HostileRequestsFuzzTest::encodeScalar);
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<String> array = Arbitraries.lazy(() -> json(depth - 1)).list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]");
    Arbitrary<String> object = Combinators.combine(
            Arbitraries.oneOf(Arbitraries.of("name", "event_id", "sender", "content", "msgtype", "body", "room_id", "scopes", "url", "events",
                "transport", "direction", "category", "action", "payload", "filters", "headers", "max_in_flight", "token_lifetime"), nasty()),
            Arbitraries.lazy(() -> json(depth - 1)))
        .as((k, v) -> encodeScalar(k) + ":" + v).list().ofMaxSize(5).map(l -> "{" + String.join(",", l) + "}");
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(2, leaf), net.jqwik.api.Tuple.of(1, array), net.jqwik.api.Tuple.of(3, object));
  }

  private static String encodeScalar(Object value) {
    if (value instanceof String s) {
      return new JsonArray().add(s).encode().replaceAll("^\\[|\\]$", "");
    }
    return String.valueOf(value);
  }

  /** A body the route would accept, with fields sometimes swapped for awkward values. */
  static Arbitrary<String> validBody(String template) {
    Arbitrary<JsonObject> base = switch (template) {
      case "/v1/bridges/{inbound}/inbound", "/v1/bridges/{inbound}/other" -> Arbitraries.integers().between(0, 50)
          .map(n -> TestNode.message("fuzz-" + n, "U" + (n % 7), "hello " + n));
      case "/v1/admin/bridges" -> Arbitraries.of("inbound", "outbound", "both").map(d -> new JsonObject().put("transport", "custom")
          .put("direction", d).put("room_id", victims.get("room").get(0)).put("name", "fuzzed").put("outbound_webhook", "http://127.0.0.1:9/x"));
      case "/v1/rooms" -> Arbitraries.just(new JsonObject().put("name", "fuzzed"));
      case "/v1/rooms/{room}/events" -> Arbitraries.just(new JsonObject().put("content", new JsonObject().put("msgtype", "swp.text").put("body", "hi")));
      case "/v1/admin/webhooks", "/v1/admin/webhooks/{webhook}" -> Arbitraries.just(validWebhook());
      case "/v1/events" -> Arbitraries.just(new JsonObject().put("category", "admin").put("action", "fuzz.published").put("payload", new JsonObject()));
      case "/v1/admin/applications", "/v1/admin/applications/{app}" -> Arbitraries.just(validApplication());
      case "/v1/admin/api-keys" -> Arbitraries.just(validApiKey());
      case "/oauth/token" -> Arbitraries.of("grant_type=client_credentials&client_id=" + victims.get("app").get(0) + "&client_secret=x",
              "grant_type=client_credentials", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=a.b.c",
              "grant_type=%zz", "grant_type=client_credentials&client_id=%00", "a=" + "b".repeat(5_000), "=&=&&", "grant_type")
          .map(form -> new JsonObject().put("__form", form));
      default -> Arbitraries.just(new JsonObject());
    };
    Arbitrary<String> tweaked = base.flatMap(body -> {
      List<String> fields = new ArrayList<>(body.fieldNames());
      if (fields.isEmpty() || body.containsKey("__form")) {
        return Arbitraries.just(body.containsKey("__form") ? body.getString("__form") : body.encode());
      }
      return Combinators.combine(Arbitraries.of(fields), scalar()).as((field, value) -> {
        JsonObject copy = body.copy();
        copy.put(field, value instanceof java.math.BigInteger big ? big.toString() : value);
        return copy.encode();
      });
    });
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, base.map(b -> b.containsKey("__form") ? b.getString("__form") : b.encode())),
        net.jqwik.api.Tuple.of(2, tweaked));
  }

  static JsonObject validWebhook() {
    return new JsonObject().put("name", "siem").put("url", "http://127.0.0.1:9/hooks/scai").put("events", new JsonArray().add("SECURITY"));
  }

  static JsonObject validApplication() {
    return new JsonObject().put("name", "crm").put("redirect_uris", new JsonArray().add("https://crm.example.org/cb"))
        .put("scopes", new JsonArray().add("rooms:read")).put("token_lifetime", 600);
  }

  static JsonObject validApiKey() {
    return new JsonObject().put("name", "fuzz").put("scopes", new JsonArray().add("rooms:read"));
  }

  // ---------------------------------------------------------------------------------------------
  // A raw HTTP/1.1 exchange

  record Answer(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Sends {@code request} as is and reads one answer, within {@link #ANSWER_BOUND_MS} or fails. */
  static Answer exchange(byte[] request, boolean oversized) throws IOException {
    long deadline = System.nanoTime() + ANSWER_BOUND_MS * 1_000_000L;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", node.port()), ANSWER_BOUND_MS);
      socket.setSoTimeout(ANSWER_BOUND_MS);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (SocketException closedEarly) {
        // The node may answer (413, 400) and close before it read the whole request; read that answer.
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buffer = new byte[16_384];
      while (true) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new AssertionError("no complete answer within " + ANSWER_BOUND_MS + " ms; got " + got.size() + " bytes");
        }
        socket.setSoTimeout((int) left);
        int n;
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException timeout) {
          throw new AssertionError("no complete answer within " + ANSWER_BOUND_MS + " ms; got: " + got.toString(StandardCharsets.UTF_8));
        } catch (SocketException reset) {
          if (got.size() > 0) {
            break;
          }
          throw new AssertionError("connection reset without an answer" + (oversized ? " (oversized body)" : ""), reset);
        }
        if (n < 0) {
          break;
        }
        got.write(buffer, 0, n);
        Answer complete = parse(got.toByteArray(), request, false);
        if (complete != null) {
          return complete;
        }
      }
      Answer answer = parse(got.toByteArray(), request, true);
      if (answer == null) {
        fail("the connection closed without a complete answer: " + got.toString(StandardCharsets.ISO_8859_1));
      }
      return answer;
    }
  }

  /** The answer in {@code raw} if it is complete (or {@code atEof} and a head is there), else null. */
  static Answer parse(byte[] raw, byte[] request, boolean atEof) {
    String all = new String(raw, StandardCharsets.ISO_8859_1);
    int endOfHead = all.indexOf("\r\n\r\n");
    if (endOfHead < 0) {
      return null;
    }
    String[] lines = all.substring(0, endOfHead).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
      throw new AssertionError("not an HTTP answer: " + lines[0]);
    }
    int status = Integer.parseInt(statusLine[1]);
    if (status == 100) {
      return parse(java.util.Arrays.copyOfRange(raw, endOfHead + 4, raw.length), request, atEof);
    }
    Map<String, String> headers = new HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    byte[] rest = java.util.Arrays.copyOfRange(raw, endOfHead + 4, raw.length);
    boolean head = new String(request, 0, Math.min(5, request.length), StandardCharsets.ISO_8859_1).startsWith("HEAD ");
    if (head || status == 204 || status == 304) {
      return new Answer(status, headers, new byte[0]);
    }
    if (headers.containsKey("content-length")) {
      int length = Integer.parseInt(headers.get("content-length"));
      if (rest.length >= length) {
        return new Answer(status, headers, java.util.Arrays.copyOf(rest, length));
      }
      return atEof ? new Answer(status, headers, rest) : null;
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      int at = 0;
      while (true) {
        int lineEnd = indexOf(rest, at);
        if (lineEnd < 0) {
          return atEof ? new Answer(status, headers, body.toByteArray()) : null;
        }
        int size = Integer.parseInt(new String(rest, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
        at = lineEnd + 2;
        if (size == 0) {
          return new Answer(status, headers, body.toByteArray());
        }
        if (at + size + 2 > rest.length) {
          return atEof ? new Answer(status, headers, body.toByteArray()) : null;
        }
        body.write(rest, at, size);
        at += size + 2;
      }
    }
    return atEof ? new Answer(status, headers, rest) : null;
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i + 1 < bytes.length; i++) {
      if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
