package com.scairelay.transport.discord;

import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.Pacer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Discord's rate limits as its answers state them (https://discord.com/developers/docs/topics/rate-limits),
 * never hard-coded: every answer's {@code X-RateLimit-Bucket}, {@code -Remaining} and {@code -Reset-After}
 * are read, and a bucket left empty holds its next request until it resets. A 429 holds the bucket for its
 * {@code retry_after}; a global one ({@code X-RateLimit-Global: true}, or a 429 without Discord's JSON: the
 * Cloudflare ban of the node's address) holds every Discord request of the node. Shared by the node's event loops.
 *
 * <p>A route is one webhook's one endpoint ({@code "<webhook id> POST /webhooks/{id}/{token}"}); its bucket,
 * once Discord named it, is keyed with the webhook id, its top-level resource.
 */
final class DiscordRateLimits {
  private static final String GLOBAL = "discord:global";
  /** Routes whose bucket is remembered; past that the map starts over (a forgotten bucket is learnt again). */
  private static final int MAX_ROUTES = 100_000;
  /** A 429 that says nothing of how long: wait this long. */
  private static final long DEFAULT_RETRY_MS = 1_000;

  private final Pacer pacer = new Pacer(0);
  private final ConcurrentHashMap<String, String> bucketOfRoute = new ConcurrentHashMap<>();

  /** How long a request on {@code route} made now would wait (ms): the node's global hold or the bucket's. */
  long waitMs(String webhookId, String route) {
    return Math.max(pacer.waitMs(GLOBAL), pacer.waitMs(key(webhookId, route)));
  }

  /** Completes when a request on {@code route} may go, answering how long it waited (ms). */
  Future<Long> acquire(Vertx vertx, String webhookId, String route) {
    return pacer.acquire(vertx, GLOBAL)
        .compose(global -> pacer.acquire(vertx, key(webhookId, route)).map(bucket -> global + bucket));
  }

  /** What a 429 said: how long to wait (ms), and whether every Discord request of the node waits. */
  record Limited(long waitMs, boolean global) {
  }

  /**
   * Reads an answer on {@code route}: learns its bucket, holds the bucket when it is empty, and on a 429
   * holds what it names for as long as it says.
   */
  void read(HttpAnswer answer, String webhookId, String route) {
    String bucket = trim(answer.headers().get("X-RateLimit-Bucket"));
    if (bucket != null && !bucket.isEmpty()) {
      if (bucketOfRoute.size() >= MAX_ROUTES) {
        bucketOfRoute.clear();
      }
      bucketOfRoute.put(route, bucket);
    }
    String key = key(webhookId, route);
    if (answer.status() != 429) {
      Long resetMs = secondsToMs(answer.headers().get("X-RateLimit-Reset-After"));
      if ("0".equals(trim(answer.headers().get("X-RateLimit-Remaining"))) && resetMs != null) {
        pacer.holdFor(key, resetMs);
      }
      return;
    }
    Limited limited = limited(answer);
    pacer.holdFor(limited.global() ? GLOBAL : key, limited.waitMs());
  }

  /**
   * What a 429 says: Discord's JSON {@code retry_after} (seconds with a fraction), else
   * {@code X-RateLimit-Reset-After} or {@code Retry-After}, else a second; global when it says so
   * ({@code X-RateLimit-Global: true}, scope {@code global}, {@code "global": true}) or when it is not
   * Discord's JSON at all (Cloudflare's ban of the node's address, which every request shares).
   */
  static Limited limited(HttpAnswer answer) {
    JsonObject body = json(answer);
    boolean discordJson = body != null && body.getValue("retry_after") instanceof Number;
    Long retryMs = discordJson
        ? Long.valueOf((long) Math.ceil(((Number) body.getValue("retry_after")).doubleValue() * 1000))
        : firstNonNull(secondsToMs(answer.headers().get("X-RateLimit-Reset-After")),
            HttpAnswer.retryAfterMs(answer.headers().get("Retry-After"), answer.clock()));
    long waitMs = retryMs == null ? DEFAULT_RETRY_MS : Math.max(0, retryMs);
    boolean global = !discordJson
        || "true".equalsIgnoreCase(trim(answer.headers().get("X-RateLimit-Global")))
        || "global".equalsIgnoreCase(trim(answer.headers().get("X-RateLimit-Scope")))
        || Boolean.TRUE.equals(body.getValue("global"));
    return new Limited(waitMs, global);
  }

  private String key(String webhookId, String route) {
    String bucket = bucketOfRoute.get(route);
    return bucket == null ? "route:" + route : "bucket:" + bucket + ":" + webhookId;
  }

  /** A JSON object body, or null. */
  static JsonObject json(HttpAnswer answer) {
    if (answer.body() == null || answer.body().length() == 0 || answer.body().getByte(0) != '{') {
      return null;
    }
    try {
      return answer.body().toJsonObject();
    } catch (RuntimeException notJson) {
      return null;
    }
  }

  /** Discord's seconds with a fraction ({@code "1.234"}), rounded up to ms; null when absent or unreadable. */
  static Long secondsToMs(String header) {
    String value = trim(header);
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      double seconds = Double.parseDouble(value);
      return Double.isFinite(seconds) && seconds >= 0 ? (long) Math.ceil(seconds * 1000) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String trim(String value) {
    return value == null ? null : value.trim();
  }

  private static Long firstNonNull(Long a, Long b) {
    return a != null ? a : b;
  }
}
