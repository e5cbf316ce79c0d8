package com.scairelay.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/**
 * Drives signed POSTs at a server on loopback, on one event loop, and records latencies in
 * HdrHistogram. Two models: {@link #closedLoop} (N connections back to back: the maximum rate) and
 * {@link #openLoop} (a fixed offered rate; each latency counts from the request's intended send time,
 * so a stalled server cannot hide its stall by slowing the generator: no coordinated omission).
 * Prints a progress line every second.
 */
final class LoadGenerator {
  record Request(String path, Map<String, String> headers, Buffer body) {
  }

  private final Vertx vertx;
  private final int port;

  private final Duration warmup;

  /** Every run first runs {@code warmup} unmeasured (the JIT of both sides needs it on this machine). */
  LoadGenerator(Vertx vertx, int port, Duration warmup) {
    this.vertx = vertx;
    this.port = port;
    this.warmup = warmup;
  }

  Result closedLoop(String name, int concurrency, Duration duration, LongFunction<Request> requests) throws Exception {
    return new Run(name, concurrency, duration, requests, 0).start();
  }

  Result openLoop(String name, double rate, int maxOutstanding, Duration duration, LongFunction<Request> requests) throws Exception {
    return new Run(name, maxOutstanding, duration, requests, rate).start();
  }

  /** One run on its own context: all its state is touched by that event loop only. */
  private final class Run {
    final String name;
    final int connections;
    final Duration duration;
    final LongFunction<Request> requests;
    final double rate;
    final Histogram all = new Histogram(3_600_000_000L, 3);
    Histogram interval = new Histogram(3_600_000_000L, 3);
    final List<Double> ratePerSecond = new ArrayList<>();
    final List<Double> p99PerSecond = new ArrayList<>();
    final Map<String, Long> answers = new TreeMap<>();
    final CompletableFuture<Result> done = new CompletableFuture<>();
    HttpClient client;
    long startNanos;
    long measureStartNanos;
    long endNanos;
    long sent;
    long completed;
    long ok;
    long okIncludingWarmup;
    long intervalCompleted;
    int outstanding;
    boolean stopping;

    Run(String name, int connections, Duration duration, LongFunction<Request> requests, double rate) {
      this.name = name;
      this.connections = connections;
      this.duration = duration;
      this.requests = requests;
      this.rate = rate;
    }

    Result start() throws Exception {
      Context context = vertx.getOrCreateContext();
      context.runOnContext(v -> begin());
      return done.get();
    }

    void begin() {
      client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setDefaultHost("127.0.0.1").setDefaultPort(port),
          new PoolOptions().setHttp1MaxSize(Math.min(connections, 256)));
      startNanos = System.nanoTime();
      measureStartNanos = startNanos + warmup.toNanos();
      endNanos = measureStartNanos + duration.toNanos();
      vertx.setPeriodic(1000, id -> {
        tick();
        if (stopping && outstanding == 0) {
          vertx.cancelTimer(id);
        }
      });
      if (rate > 0) {
        vertx.setPeriodic(1, id -> {
          long now = System.nanoTime();
          if (now >= endNanos) {
            vertx.cancelTimer(id);
            stop();
            return;
          }
          long due = (long) ((now - startNanos) / 1e9 * rate);
          while (sent < due && outstanding < connections) {
            send(startNanos + (long) (sent * 1e9 / rate));
          }
        });
      } else {
        for (int i = 0; i < connections; i++) {
          send(System.nanoTime());
        }
        vertx.setTimer(warmup.plus(duration).toMillis(), id -> stop());
      }
    }

    void send(long intendedNanos) {
      Request request = requests.apply(sent);
      if (request == null) {
        if (!stopping) {
          stop();
        }
        return;
      }
      sent++;
      outstanding++;
      // A server that never answers fails the request after a minute instead of holding the run forever.
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI(request.path()).setIdleTimeout(60_000);
      request.headers().forEach(options::putHeader);
      client.request(options)
          .compose(req -> req.send(request.body()))
          .compose(response -> response.body().map(body -> response.statusCode()))
          .onComplete(ar -> {
            outstanding--;
            long micros = (System.nanoTime() - intendedNanos) / 1000;
            interval.recordValue(Math.min(micros, interval.getHighestTrackableValue()));
            intervalCompleted++;
            if (ar.succeeded() && ar.result() / 100 == 2) {
              okIncludingWarmup++;
            }
            if (intendedNanos >= measureStartNanos) {
              all.recordValue(Math.min(micros, all.getHighestTrackableValue()));
              completed++;
              String answer = ar.succeeded() ? Integer.toString(ar.result()) : ar.cause().getClass().getSimpleName();
              answers.merge(answer, 1L, Long::sum);
              if (ar.succeeded() && ar.result() / 100 == 2) {
                ok++;
              }
            }
            if (rate == 0 && !stopping) {
              send(System.nanoTime());
            } else if (stopping && outstanding == 0) {
              finish();
            }
          });
    }

    void stop() {
      stopping = true;
      endNanos = System.nanoTime();
      if (outstanding == 0) {
        finish();
      }
    }

    void tick() {
      double p99 = interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99) / 1000.0;
      boolean warming = System.nanoTime() < measureStartNanos;
      if (!warming) {
        ratePerSecond.add((double) intervalCompleted);
        p99PerSecond.add(p99);
      }
      System.out.printf("  [%s]%s t=%ds rate=%d/s p50=%.2fms p99=%.2fms errors=%d outstanding=%d%n", name, warming ? " warm-up" : "",
          (System.nanoTime() - startNanos) / 1_000_000_000L, intervalCompleted,
          interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(50) / 1000.0, p99, completed - ok, outstanding);
      interval = new Histogram(3_600_000_000L, 3);
      intervalCompleted = 0;
    }

    void finish() {
      if (done.isDone()) {
        return;
      }
      double seconds = (endNanos - measureStartNanos) / 1e9;
      client.close();
      done.complete(new Result(name, rate, connections, completed, ok, okIncludingWarmup, completed - ok, seconds, ok / seconds,
          all.getValueAtPercentile(50) / 1000.0, all.getValueAtPercentile(90) / 1000.0, all.getValueAtPercentile(99) / 1000.0,
          all.getMaxValue() / 1000.0, List.copyOf(ratePerSecond), List.copyOf(p99PerSecond), Map.copyOf(answers)));
    }
  }

  /** What a run measured; latencies in milliseconds, throughput in successful requests per second. */
  record Result(String name, double offeredRate, int connections, long requests, long ok, long okIncludingWarmup, long errors, double seconds,
                double throughput, double p50, double p90, double p99, double max, List<Double> ratePerSecond,
                List<Double> p99PerSecond, Map<String, Long> answers) {
  }
}
