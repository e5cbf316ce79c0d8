package com.scairelay.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;

/** Admin calls to the node under test (rooms, bridges), one at a time or many in parallel. */
final class Admin {
  /** No admin call waits longer than this for the node (every wait of the harness is bounded). */
  private static final long IDLE_TIMEOUT_MS = 60_000;
  private final HttpClient client;
  private final String token;

  Admin(Vertx vertx, int port, String token) {
    this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(32));
    this.token = token;
  }

  Future<JsonObject> post(String path, JsonObject body) {
    return client.request(new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(HttpMethod.POST).setURI(path)
            .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(body.toBuffer()))
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() / 100 != 2) {
            throw new IllegalStateException("POST " + path + " answered " + resp.statusCode() + ": " + b);
          }
          return b.length() == 0 ? new JsonObject() : new JsonObject(b);
        }));
  }

  /** An answer: its status and body. */
  record Answer(int status, String body) {
  }

  /** {@code GET path} without the admin token (what a Prometheus scrape sends), whatever its status. */
  Answer scrape(String path) {
    return client.request(new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(HttpMethod.GET).setURI(path))
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString())))
        .await();
  }

  JsonObject room(String name) {
    return post("/v1/rooms", new JsonObject().put("name", name)).await();
  }

  JsonObject bridge(String roomId, String direction, String webhook) {
    return post("/v1/admin/bridges", bridgeBody(roomId, direction, webhook)).await();
  }

  static JsonObject bridgeBody(String roomId, String direction, String webhook) {
    JsonObject body = new JsonObject().put("transport", "custom").put("direction", direction).put("room_id", roomId).put("name", "bench");
    if (webhook != null) {
      body.put("outbound_webhook", webhook);
    }
    return body;
  }

  /** {@code n} calls, at most 32 at a time; the answers in order. Prints progress every 10,000. */
  List<JsonObject> many(String what, int n, IntFunction<Future<JsonObject>> call) throws InterruptedException {
    Semaphore window = new Semaphore(32);
    List<Future<JsonObject>> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      window.acquire();
      Future<JsonObject> f = call.apply(i);
      f.onComplete(ar -> window.release());
      all.add(f);
      if ((i + 1) % 10_000 == 0) {
        System.out.printf("  created %d of %d %s%n", i + 1, n, what);
      }
    }
    List<JsonObject> out = new ArrayList<>(n);
    for (Future<JsonObject> f : all) {
      out.add(f.await());
    }
    return out;
  }

  Buffer get(String path) {
    return client.request(new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(HttpMethod.GET).setURI(path).putHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send().compose(resp -> resp.body())).await();
  }

  JsonObject getJson(String path) {
    return client.request(new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(HttpMethod.GET).setURI(path).putHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + resp.statusCode() + ": " + b);
          }
          return new JsonObject(b);
        }))).await();
  }

  /** A POST without a body (pause, resume) or a DELETE; fails unless the node answers 2xx. */
  void call(HttpMethod method, String path) {
    client.request(new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(method).setURI(path).putHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + resp.statusCode() + ": " + b);
          }
          return b;
        }))).await();
  }

  /** A request as a foreign system sends it (no admin token); answers the status code. */
  int send(String path, java.util.Map<String, String> headers, Buffer body) {
    RequestOptions options = new RequestOptions().setIdleTimeout(IDLE_TIMEOUT_MS).setMethod(HttpMethod.POST).setURI(path);
    headers.forEach(options::putHeader);
    return client.request(options).compose(req -> req.send(body).compose(resp -> resp.body().map(b -> resp.statusCode()))).await();
  }

  void close() {
    client.close().await();
  }
}
