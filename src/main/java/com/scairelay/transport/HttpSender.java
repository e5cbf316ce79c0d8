package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.Optional;

/**
 * The one HTTP client of every connector: resolves the host (IP literals at once, names on a worker),
 * checks every resolved address against the {@link OutboundGuard}, connects to the address it checked
 * (so DNS cannot be switched under the guard), keeps connections alive and pooled, follows no
 * redirects, and bounds connect and response time. One per event loop: the delivery side calls it
 * in-process, on the loop of the queue actors it sends for.
 */
public final class HttpSender {
  private final Vertx vertx;
  private final RelayConfig.Outbound settings;
  private final OutboundGuard guard;
  private final Clock clock;
  private final WebClient client;

  public HttpSender(Vertx vertx, RelayConfig.Outbound settings, OutboundGuard guard, Clock clock) {
    this.vertx = vertx;
    this.settings = settings;
    this.guard = guard;
    this.clock = clock;
    this.client = WebClient.create(vertx, new WebClientOptions()
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setKeepAlive(true)
            .setIdleTimeout(60)
            .setFollowRedirects(false)
            .setUserAgent("ScaiRelay"),
        new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerHost()));
  }

  /** An address the guard refuses: the request was never made. */
  public static final class Refused extends RuntimeException {
    Refused(String reason) {
      super("refused: " + reason, null, false, false);
    }
  }

  /** Sends the request and lets {@code connector} read the answer; never fails: a failure is a result. */
  public Future<TransportResult> send(TransportRequest request, Connector connector) {
    return send(request, connector::classify);
  }

  /**
   * Sends the request and lets {@code reader} make a result of the answer; never fails: no answer is a
   * permanent result (refused address, invalid URL) or a transient one (DNS, connect, TLS, timeout),
   * its error without the URL's path and query.
   */
  public Future<TransportResult> send(TransportRequest request, java.util.function.Function<HttpAnswer, TransportResult> reader) {
    long started = System.nanoTime();
    return exchange(request)
        .map(reader)
        .recover(err -> Future.succeededFuture(err instanceof Refused || err instanceof IllegalArgumentException
            ? TransportResult.failed(Outcome.PERMANENT, redact(describe(err), request.url()), 0)
            : TransportResult.failed(Outcome.TRANSIENT, redact(describe(err), request.url()), elapsedMs(started))));
  }

  /**
   * Sends the request and answers whatever HTTP answer came back; fails when none did (invalid URL,
   * {@link Refused} address, DNS, connect, TLS or timeout). Connectors call platform APIs through it.
   */
  public Future<HttpAnswer> exchange(TransportRequest request) {
    long started = System.nanoTime();
    URI uri;
    try {
      uri = new URI(request.url());
    } catch (java.net.URISyntaxException e) {
      return Future.failedFuture(new IllegalArgumentException("invalid URL: " + e.getReason()));
    }
    if (uri.getHost() == null) {
      return Future.failedFuture(new IllegalArgumentException("invalid URL: no host in " + request.url()));
    }
    return resolve(uri.getHost())
        .compose(address -> {
          Optional<String> refused = guard.refuse(address);
          if (refused.isPresent()) {
            return Future.failedFuture(new Refused(refused.get()));
          }
          return request(uri, address, request)
              .map(response -> new HttpAnswer(response.statusCode(), response.headers(), response.body(), elapsedMs(started), clock));
        });
  }

  /** The Vert.x of the loop this sender runs on (paced connectors wait on its timers). */
  public Vertx vertx() {
    return vertx;
  }

  public Clock clock() {
    return clock;
  }

  public void close() {
    client.close();
  }

  private Future<HttpResponse<Buffer>> request(URI uri, InetAddress address, TransportRequest request) {
    boolean https = "https".equalsIgnoreCase(uri.getScheme());
    int port = uri.getPort() > 0 ? uri.getPort() : (https ? 443 : 80);
    String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    request.headers().forEach(entry -> headers.set(entry.getKey(), String.valueOf(entry.getValue())));
    if (request.body() != null && !headers.contains("Content-Type")) {
      headers.set("Content-Type", "application/json");
    }
    var call = client.request(request.method(), port, address.getHostAddress(), path)
        .ssl(https)
        .virtualHost(uri.getHost())
        .timeout(settings.responseTimeout().toMillis())
        .putHeaders(headers);
    return request.body() == null ? call.send() : call.sendBuffer(Buffer.buffer(request.body()));
  }

  /**
   * The address to connect to: IP literals as they are (no thread hop), names through the resolver on a
   * worker thread. When any of a name's addresses is one the guard refuses, that one is returned, so it is refused.
   */
  private Future<InetAddress> resolve(String host) {
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (OutboundGuard.isIpLiteral(bare)) {
      try {
        return Future.succeededFuture(InetAddress.getByName(bare));
      } catch (UnknownHostException e) {
        return Future.failedFuture(e);
      }
    }
    return vertx.executeBlocking(() -> {
      InetAddress[] all = InetAddress.getAllByName(bare);
      for (InetAddress candidate : all) {
        if (guard.refuse(candidate).isPresent()) {
          return candidate;
        }
      }
      return all[0];
    }, false);
  }

  /**
   * What went wrong, in words: the delivery log shows it to admins, so no Java class names
   * ({@code AnnotatedConnectException: …}), only the kind of failure and the transport's message.
   * Public for connectors that call {@link #exchange} themselves. A timeout's message names the
   * request's path: a connector whose URLs carry a credential redacts it.
   */
  public static String describe(Throwable err) {
    String message = err.getMessage() == null || err.getMessage().isBlank() ? null : err.getMessage();
    String kind;
    if (err instanceof Refused || err instanceof IllegalArgumentException) {
      return message;
    } else if (err instanceof java.net.UnknownHostException) {
      kind = "unknown host";
    } else if (err instanceof java.net.ConnectException) {
      kind = "could not connect";
    } else if (err instanceof javax.net.ssl.SSLException) {
      kind = "TLS failed";
    } else if (err instanceof java.util.concurrent.TimeoutException) {
      kind = "timeout";
    } else {
      return message == null ? "the request failed" : message;
    }
    return message == null ? kind : kind + ": " + message;
  }

  /**
   * {@code text} without the URL's path and query: a failure's message can quote the request line
   * (Vert.x's timeout names "POST /webhooks/{id}/{token}?…"), platform URLs carry their tokens there,
   * and the delivery log is shown to admins.
   */
  public static String redact(String text, String url) {
    if (text == null || url == null) {
      return text;
    }
    String shown = text.replace(url, "<url>");
    try {
      URI uri = new URI(url);
      if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
        shown = shown.replace(uri.getRawQuery(), "<query>");
      }
      if (uri.getRawPath() != null && uri.getRawPath().length() > 1) {
        shown = shown.replace(uri.getRawPath(), "<path>");
      }
    } catch (java.net.URISyntaxException e) {
      // an unparsable URL was never requested: nothing of it is in the message
    }
    return shown;
  }

  private static long elapsedMs(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
