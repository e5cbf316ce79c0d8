package com.scairelay.bench;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The foreign endpoints of the benchmark, one HTTP server on loopback: counts deliveries per path,
 * measures inbound-to-delivery latency from the {@code seq} the generator put in the content, and
 * counts arrivals per {@code seq} so a run can prove every event arrived exactly once. A path can be
 * made faulty (503, or no answer).
 */
final class Sink implements AutoCloseable {
  enum Behaviour { OK, FAIL, HANG }

  /** Told of every delivery answered 200 (or about to be, after {@link #okDelayMs}): its path, body and arrival time. */
  interface Recorder {
    void delivered(String path, JsonObject body, long arrivedNanos);
  }

  final Map<Long, Long> sentAtNanos = new ConcurrentHashMap<>();
  final Map<Long, Integer> arrivals = new ConcurrentHashMap<>();
  final Map<String, LongAdder> deliveredByPath = new ConcurrentHashMap<>();
  final LongAdder delivered = new LongAdder();
  private Histogram latency = new Histogram(3_600_000_000L, 3);
  volatile Function<String, Behaviour> behaviour = path -> Behaviour.OK;
  /** Deliveries of events sent before this (the warm-up) are counted but not timed. */
  volatile long timeFromNanos;
  /** When the first and the last delivery since the last reset arrived (System.nanoTime, 0: none yet). */
  volatile long firstNanos;
  volatile long lastNanos;
  /** The last delivery's body and headers: what the node sends, to measure the sink with requests of the same size. */
  volatile Buffer lastBody;
  volatile MultiMap lastHeaders;
  /** How long an OK answer waits before the 200 goes out (0: at once); a delivery counts when it arrived. Not touched by {@link #reset}. */
  volatile long okDelayMs;
  /** Told of every OK delivery when it arrived (null: none). Not touched by {@link #reset}. */
  volatile Recorder recorder;
  private final Vertx vertx;
  private final HttpServer server;

  Sink(Vertx vertx) {
    this.vertx = vertx;
    server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  int port() {
    return server.actualPort();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    Behaviour b = behaviour.apply(path);
    if (b == Behaviour.HANG) {
      return;
    }
    request.body().onSuccess(body -> {
      if (b == Behaviour.FAIL) {
        request.response().setStatusCode(503).end();
        return;
      }
      long now = System.nanoTime();
      JsonObject json = new JsonObject(body);
      JsonObject content = json.getJsonObject("content");
      Long seq = content == null ? null : content.getLong("seq");
      if (seq != null) {
        arrivals.merge(seq, 1, Integer::sum);
        Long sent = sentAtNanos.get(seq);
        if (sent != null && sent >= timeFromNanos) {
          synchronized (this) {
            latency.recordValue(Math.min((now - sent) / 1000, latency.getHighestTrackableValue()));
          }
        }
      }
      if (firstNanos == 0) {
        firstNanos = now;
      }
      lastNanos = now;
      lastBody = body;
      lastHeaders = request.headers();
      delivered.increment();
      deliveredByPath.computeIfAbsent(path, p -> new LongAdder()).increment();
      Recorder r = recorder;
      if (r != null) {
        r.delivered(path, json, now);
      }
      long delay = okDelayMs;
      if (delay > 0) {
        vertx.setTimer(delay, t -> request.response().setStatusCode(200).end());
      } else {
        request.response().setStatusCode(200).end();
      }
    });
  }

  /** Forgets what was counted; the next phase starts from zero. */
  synchronized void reset() {
    sentAtNanos.clear();
    arrivals.clear();
    deliveredByPath.clear();
    delivered.reset();
    firstNanos = 0;
    lastNanos = 0;
    latency = new Histogram(3_600_000_000L, 3);
    behaviour = path -> Behaviour.OK;
  }

  synchronized Histogram latency() {
    return latency.copy();
  }

  long deliveredTo(String path) {
    LongAdder count = deliveredByPath.get(path);
    return count == null ? 0 : count.sum();
  }

  @Override
  public void close() {
    server.close().await();
  }
}
