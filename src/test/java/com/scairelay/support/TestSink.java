package com.scairelay.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A foreign endpoint on loopback: a real HTTP server that records every request and answers as the
 * test scripts it (a status, headers such as {@code Retry-After}, a delay, or no answer at all).
 */
public final class TestSink implements AutoCloseable {
  /** One request as the sink saw it; {@code index} counts requests to the same path from 0. */
  /** One request; {@code atNanos} is when it arrived, on {@link System#nanoTime()}. */
  public record Received(String path, int index, MultiMap headers, String body, long atNanos) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String eventId() {
      return json().getString("event_id");
    }
  }

  /**
   * How to answer: a status, headers and a body (null: {@code {"sink":<status>}}) after {@code delayMs};
   * {@code noAnswer}: none at all.
   */
  public record Answer(int status, Map<String, String> headers, long delayMs, boolean noAnswer, String body) {
    public static Answer status(int status) {
      return new Answer(status, Map.of(), 0, false, null);
    }

    public static Answer status(int status, Map<String, String> headers) {
      return new Answer(status, headers, 0, false, null);
    }

    public static Answer json(int status, String body) {
      return new Answer(status, Map.of("Content-Type", "application/json"), 0, false, body);
    }

    public static Answer delayed(int status, long delayMs) {
      return new Answer(status, Map.of(), delayMs, false, null);
    }

    public static Answer never() {
      return new Answer(0, Map.of(), 0, true, null);
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private record Exchange(Received request, Answer answer) {
  }

  private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
  private final Map<String, Function<Received, Answer>> scripts = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Integer> inFlight = new java.util.HashMap<>();
  private final Map<String, Integer> mostInFlight = new java.util.HashMap<>();

  private TestSink(Vertx vertx) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  public static TestSink start(Vertx vertx) {
    return new TestSink(vertx);
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  /** Scripts the answers for {@code path}; unscripted paths answer 200. */
  public void answer(String path, Function<Received, Answer> script) {
    scripts.put(path, script);
  }

  public List<Received> received(String path) {
    return exchanges.stream().map(Exchange::request).filter(r -> r.path().equals(path)).toList();
  }

  /** The requests to {@code path} that were answered 2xx, in the order they arrived. */
  public List<Received> answeredOk(String path) {
    return exchanges.stream()
        .filter(e -> e.request().path().equals(path) && !e.answer().noAnswer() && e.answer().status() / 100 == 2)
        .map(Exchange::request).toList();
  }

  /** Event ids of the requests to {@code path} that were answered 2xx, in the order they arrived. */
  public List<String> delivered(String path) {
    return exchanges.stream()
        .filter(e -> e.request().path().equals(path) && !e.answer().noAnswer() && e.answer().status() / 100 == 2)
        .map(e -> e.request().eventId()).toList();
  }

  /** The most requests to {@code path} that were ever being answered at once. */
  public int mostInFlight(String path) {
    synchronized (exchanges) {
      return mostInFlight.getOrDefault(path, 0);
    }
  }

  /** Every path that received a request. */
  public java.util.Set<String> paths() {
    return exchanges.stream().map(e -> e.request().path()).collect(java.util.stream.Collectors.toSet());
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      String path = request.path();
      Answer answer;
      synchronized (exchanges) {
        Received r = new Received(path, received(path).size(), request.headers(), body.toString(), System.nanoTime());
        answer = scripts.getOrDefault(path, x -> Answer.status(200)).apply(r);
        exchanges.add(new Exchange(r, answer));
        int now = inFlight.merge(path, 1, Integer::sum);
        mostInFlight.merge(path, now, Math::max);
      }
      if (answer.noAnswer()) {
        return;
      }
      Runnable respond = () -> {
        synchronized (exchanges) {
          inFlight.merge(path, -1, Integer::sum);
        }
        answer.headers().forEach(request.response()::putHeader);
        request.response().setStatusCode(answer.status())
            .end(answer.body() != null ? answer.body() : "{\"sink\":" + answer.status() + "}");
      };
      if (answer.delayMs() > 0) {
        vertx.setTimer(answer.delayMs(), id -> respond.run());
      } else {
        respond.run();
      }
    });
  }

  @Override
  public void close() {
    server.close().await();
  }
}
