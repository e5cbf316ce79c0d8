package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.InetAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The HTTP transport of {@code custom} bridges and webhook subscriptions: POSTs the payload with the
 * headers its target kind made (the signature among them), and classifies the answer. It connects to
 * the address it checked (so DNS cannot be switched under the guard), keeps connections alive and
 * pooled, and follows no redirects. Retry policy is the actor's, not this verticle's.
 */
public final class CustomTransport extends VerticleBase {
  public static final String NAME = "custom";

  private final RelayConfig.Outbound settings;
  private final OutboundGuard guard;
  private final Clock clock;
  private WebClient client;

  public CustomTransport(RelayConfig.Outbound settings, OutboundGuard guard, Clock clock) {
    this.settings = settings;
    this.guard = guard;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    client = WebClient.create(vertx, new WebClientOptions()
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setKeepAlive(true)
            .setIdleTimeout(60)
            .setFollowRedirects(false)
            .setUserAgent("ScaiRelay"),
        new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerHost()));
    return vertx.eventBus().<JsonObject>consumer(TransportRequest.address(NAME),
        message -> send(TransportRequest.fromJson(message.body())).onSuccess(result -> message.reply(result.toJson())))
        .completion();
  }

  Future<TransportResult> send(TransportRequest request) {
    long started = System.nanoTime();
    URI uri;
    try {
      uri = new URI(request.url());
    } catch (java.net.URISyntaxException e) {
      return Future.succeededFuture(TransportResult.failed(Outcome.PERMANENT, "invalid URL: " + e.getReason(), 0));
    }
    return resolve(uri.getHost())
        .compose(address -> {
          Optional<String> refused = guard.refuse(address);
          if (refused.isPresent()) {
            return Future.succeededFuture(TransportResult.failed(Outcome.PERMANENT, "refused: " + refused.get(), 0));
          }
          return post(uri, address, request).map(response -> classify(response, elapsedMs(started)));
        })
        .recover(err -> Future.succeededFuture(TransportResult.failed(Outcome.TRANSIENT, describe(err), elapsedMs(started))));
  }

  private Future<HttpResponse<Buffer>> post(URI uri, InetAddress address, TransportRequest request) {
    boolean https = "https".equalsIgnoreCase(uri.getScheme());
    int port = uri.getPort() > 0 ? uri.getPort() : (https ? 443 : 80);
    String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    Buffer body = Buffer.buffer(request.body());
    return client.request(HttpMethod.POST, port, address.getHostAddress(), path)
        .ssl(https)
        .virtualHost(uri.getHost())
        .timeout(settings.responseTimeout().toMillis())
        .putHeader("Content-Type", "application/json")
        .putHeaders(headers(request))
        .sendBuffer(body);
  }

  private static io.vertx.core.MultiMap headers(TransportRequest request) {
    io.vertx.core.MultiMap headers = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
    request.headers().forEach(entry -> headers.set(entry.getKey(), String.valueOf(entry.getValue())));
    return headers;
  }

  /**
   * The address to connect to: IP literals as they are (no thread hop), names through the resolver on a
   * worker thread.
   * When any of a name's addresses is one the guard refuses, that one is returned, so it is refused.
   */
  private Future<InetAddress> resolve(String host) {
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (OutboundGuard.isIpLiteral(bare)) {
      try {
        return Future.succeededFuture(InetAddress.getByName(bare));
      } catch (java.net.UnknownHostException e) {
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

  private TransportResult classify(HttpResponse<Buffer> response, long latencyMs) {
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return new TransportResult(Outcome.DELIVERED, status, null, null, latencyMs);
    }
    if (status == 429) {
      return new TransportResult(Outcome.RATE_LIMITED, status, retryAfterMs(response.getHeader("Retry-After")), null, latencyMs);
    }
    Outcome outcome = status >= 500 ? Outcome.TRANSIENT : Outcome.PERMANENT;
    return new TransportResult(outcome, status, null, snippet(response), latencyMs);
  }

  /** {@code Retry-After} in seconds or as an HTTP date; null when absent or unreadable. */
  Long retryAfterMs(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String value = header.trim();
    if (value.matches("\\d{1,9}")) {
      return Long.parseLong(value) * 1000;
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Math.max(0, at.toEpochMilli() - clock.millis());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String snippet(HttpResponse<Buffer> response) {
    Buffer body = response.body();
    if (body == null || body.length() == 0) {
      return null;
    }
    String text = body.toString();
    return text.length() > 200 ? text.substring(0, 200) + "…" : text;
  }

  private static String describe(Throwable err) {
    String message = err.getMessage();
    return err.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private static long elapsedMs(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
