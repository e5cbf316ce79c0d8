package com.scairelay.transport.teams;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;

/**
 * Power Automate's Workflows service on loopback, as a "When a Teams webhook request is received"
 * trigger answers: a trigger URL {@code /workflows/<flow>/triggers/manual/paths/invoke?api-version=…&sp=…&sv=1.0&sig=…}
 * whose {@code sig} must match (401 otherwise), a JSON body (400 otherwise), 202 Accepted with an
 * empty body when the run is queued, 404 {@code WorkflowNotFound} once the flow is deleted, and what
 * a test scripts per request: 429 with {@code Retry-After}, a throttle reported in an HTTP 200 body
 * (as the retired Office 365 connector did), or no answer at all.
 */
final class FakeWorkflows implements AutoCloseable {
  private static final String PREFIX = "/workflows/";
  private static final String SUFFIX = "/triggers/manual/paths/invoke";

  /** One request as the service saw it; {@code index} counts the requests to one flow from 0. */
  record Received(String flow, int index, MultiMap headers, String query, String body, long atNanos) {
    JsonObject json() {
      return new JsonObject(body);
    }

    /** The text of the card's second block: the message. */
    String text() {
      return card().getJsonArray("body").getJsonObject(1).getString("text");
    }

    JsonObject card() {
      return json().getJsonArray("attachments").getJsonObject(0).getJsonObject("content");
    }
  }

  /** A status, headers and a body (null: none); {@code never}: the request is left unanswered. */
  record Answer(int status, Map<String, String> headers, String body, boolean never) {
    /** The run is queued: Workflows answer 202 with an empty body. */
    static Answer accepted() {
      return new Answer(202, Map.of(), null, false);
    }

    static Answer throttled(int retryAfterSeconds) {
      return new Answer(429, Map.of("Retry-After", Integer.toString(retryAfterSeconds), "Content-Type", "application/json"),
          "{\"error\":{\"code\":\"WorkflowRequestsThrottled\",\"message\":\"Number of requests for workflow exceeded the limit. "
              + "Please retry after " + retryAfterSeconds + " seconds.\"}}", false);
    }

    /** What the Office 365 connector answered when Teams throttled it: HTTP 200 and a text body. */
    static Answer throttledInA200() {
      return new Answer(200, Map.of("Content-Type", "text/plain; charset=utf-8"),
          "Microsoft Teams endpoint returned HTTP error 429 to the connector. Please retry later.", false);
    }

    static Answer noAnswer() {
      return new Answer(0, Map.of(), null, true);
    }
  }

  private final HttpServer server;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, IntFunction<Answer>> scripts = new ConcurrentHashMap<>();
  private final Set<String> deleted = ConcurrentHashMap.newKeySet();
  private final List<HttpServerRequest> unanswered = new CopyOnWriteArrayList<>();

  private FakeWorkflows(Vertx vertx) {
    this.server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  static FakeWorkflows start(Vertx vertx) {
    return new FakeWorkflows(vertx);
  }

  /** The trigger URL of {@code flow}, as the workflow's trigger shows it, signature included. */
  String url(String flow) {
    return origin() + PREFIX + flow + SUFFIX + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig(flow);
  }

  String origin() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** The signature in {@code flow}'s URL: a secret the admin API must never show. */
  static String sig(String flow) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(("flow-key:" + flow).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Scripts how the requests to {@code flow} are answered, by their index; unscripted flows accept. */
  void script(String flow, IntFunction<Answer> script) {
    scripts.put(flow, script);
  }

  /** The flow is deleted: its URL answers 404 from now on. */
  void delete(String flow) {
    deleted.add(flow);
  }

  List<Received> received(String flow) {
    return received.stream().filter(r -> r.flow().equals(flow)).toList();
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      String path = request.path();
      if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) {
        error(request, 404, "InvalidRequestPath", "The request path is not a workflow trigger.");
        return;
      }
      String flow = path.substring(PREFIX.length(), path.length() - SUFFIX.length());
      Received r;
      synchronized (received) {
        r = new Received(flow, received(flow).size(), request.headers(), request.query(), body.toString(StandardCharsets.UTF_8),
            System.nanoTime());
        received.add(r);
      }
      if (deleted.contains(flow)) {
        error(request, 404, "WorkflowNotFound", "The workflow '" + flow + "' could not be found.");
        return;
      }
      if (!sig(flow).equals(request.getParam("sig"))) {
        error(request, 401, "DirectApiInvalidAuthorizationSignature", "The provided callback URL signature is invalid.");
        return;
      }
      String type = request.getHeader("Content-Type");
      if (type == null || !type.toLowerCase().startsWith("application/json") || !isJsonObject(r.body())) {
        error(request, 400, "InvalidRequestContent", "The request content is not valid JSON.");
        return;
      }
      Answer answer = scripts.getOrDefault(flow, i -> Answer.accepted()).apply(r.index());
      if (answer.never()) {
        unanswered.add(request);
        return;
      }
      answer.headers().forEach(request.response()::putHeader);
      request.response().setStatusCode(answer.status());
      if (answer.body() == null) {
        request.response().end();
      } else {
        request.response().end(answer.body());
      }
    });
  }

  private static boolean isJsonObject(String body) {
    try {
      new JsonObject(body);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static void error(HttpServerRequest request, int status, String code, String message) {
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
  }

  @Override
  public void close() {
    unanswered.forEach(r -> r.connection().close());
    server.close().await();
  }
}
