package com.scairelay.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of a node, read once at start-up from the defaults in {@code conf/relay.json} (packed
 * in the jar), an optional file named by {@code RELAY_CONFIG}, then {@code RELAY_*} environment
 * variables. Values are validated here; a bad one stops start-up with a message naming the key.
 */
public record RelayConfig(
    String httpHost,
    int httpPort,
    int httpInstances,
    int maxBodyBytes,
    Duration idleTimeout,
    Duration headerTimeout,
    Duration bodyTimeout,
    Duration requestTimeout,
    Optional<String> adminToken,
    ServerName serverName,
    Path dataDir,
    Optional<String> pgUrl,
    int pgPoolSize,
    Duration pgTimeout,
    int pgEmbeddedPort,
    Optional<byte[]> masterKey,
    List<byte[]> previousMasterKeys,
    Duration signatureTolerance,
    Duration dedupeWindow,
    int pausedRetryAfterSeconds,
    Duration secretGrace,
    int signatureFailureAuditsPerMinute,
    int eventLogMaxBatch,
    int eventLogWindowMs,
    int eventLogMaxPending,
    int eventLogMaxInFlight,
    Duration bridgeCacheTtl,
    Duration webhookSecretGrace,
    Duration clientSecretGrace,
    Duration maxTokenLifetime,
    Duration revocationCheck,
    Duration authorizationCodeLifetime,
    Oidc oidc,
    Delivery delivery,
    Retention retention,
    Outbound outbound,
    Platforms platforms,
    Cluster cluster,
    Metrics metrics,
    Operations operations) {

  /**
   * An external OpenID Connect issuer whose access tokens the node accepts (README-oauth, "External
   * OpenID Connect issuer"); {@code issuer} empty: none.
   *
   * @param issuer       the {@code iss} value to trust, exactly as the issuer writes it
   * @param jwksUrl      where its keys are; empty: {@code jwks_uri} of {@code <issuer>/.well-known/openid-configuration}
   * @param audience     when set, a token's {@code aud} must name it
   * @param scopesClaim  the claim holding the token's scopes: a space-separated string or an array of strings
   */
  public record Oidc(Optional<String> issuer, Optional<String> jwksUrl, Optional<String> audience, String scopesClaim) {
    public boolean enabled() {
      return issuer.isPresent();
    }
  }

  /** How queued deliveries are claimed, retried and given up (DESIGN.md §4). */
  public record Delivery(
      Duration lease,
      Duration sweepInterval,
      Duration backoffInitial,
      Duration backoffMax,
      int jitterPercent,
      Duration retryWindow,
      int rateLimitRetries,
      int defaultMaxInFlight,
      int prefetch,
      int resultBatchMax,
      int breakerMaxFailures,
      Duration breakerReset,
      Duration retention,
      Duration brokenHold) {
  }

  /**
   * What the background purge removes and how gently (README, "Retention"); a zero age keeps rows forever.
   *
   * @param events     room events older than this go, once no delivery is pending for them
   * @param audit      audit events older than this go, once no webhook delivery is pending for them
   * @param interval   between two purge passes
   * @param batchSize  rows deleted per statement
   * @param batchPause between two statements of a pass
   */
  public record Retention(Duration events, Duration audit, Duration interval, int batchSize, Duration batchPause) {
  }

  /** How transports reach foreign endpoints, and which addresses they may reach. */
  public record Outbound(
      Duration connectTimeout,
      Duration responseTimeout,
      int maxConnectionsPerHost,
      boolean allowLoopback,
      boolean allowPrivateNetworks) {
  }

  /**
   * Where the built-in platform transports find their platform (a local server in tests and air-gapped
   * sites) and how fast they may send to it.
   *
   * @param slackPace           between two posts to one Slack channel (Slack allows about one a second)
   * @param slackCoalesceBacklog a Slack bridge with this many messages queued joins one sender's into one post
   * @param slackCoalesceMax    at most this many messages in one joined post
   * @param slackProfileCache   how long a Slack user's name and avatar are kept
   * @param teamsPace           between two posts to one Teams Workflows webhook (4 a second)
   */
  public record Platforms(
      String slackApiUrl,
      Duration slackPace,
      int slackCoalesceBacklog,
      int slackCoalesceMax,
      Duration slackProfileCache,
      String discordApiUrl,
      String discordGatewayUrl,
      Duration teamsPace) {
  }

  /**
   * Many nodes on one PostgreSQL (README, "Running a cluster"): the Hazelcast cluster they join and
   * how fast a node that went silent loses its targets.
   *
   * @param members        {@code host:port} of the members to join (this node's own address included or not)
   * @param failureTimeout a member silent this long is declared dead by the others
   * @param nodeLease      a node's claims outlive its last renewal in PostgreSQL by this long
   */
  public record Cluster(
      boolean enabled,
      String name,
      String host,
      int port,
      List<String> members,
      Duration failureTimeout,
      Duration nodeLease,
      Optional<Path> hazelcastConfig) {
  }

  /**
   * {@code GET /metrics} (README, "Metrics").
   *
   * @param enabled        the endpoint, Vert.x's own metrics and the node's meters; off, they cost nothing
   * @param token          when set, a scrape must send {@code Authorization: Bearer <token>}
   * @param outboxInterval how often the outbox gauges (depth, oldest pending) are read from PostgreSQL
   */
  public record Metrics(boolean enabled, Optional<String> token, Duration outboxInterval) {
  }

  /**
   * How the node logs and stops (README, "Operating ScaiRelay").
   *
   * @param logLevel         level of every logger not set in {@code conf/logback.xml}: TRACE, DEBUG, INFO, WARN or ERROR
   * @param logFormat        {@code text} (one line per event) or {@code json} (one JSON object per line)
   * @param requestLog       level of the one line per HTTP request: {@code off}, {@code debug} or {@code info}
   * @param shutdownDeadline how long a stop (SIGTERM) may take to drain before the process gives up with exit code 1
   */
  public record Operations(String logLevel, String logFormat, String requestLog, Duration shutdownDeadline) {
  }

  public static final int MASTER_KEY_BYTES = 32;
  public static final int MIN_ADMIN_TOKEN_LENGTH = 16;

  /** Reads the configuration as a node started with this environment would. */
  public static RelayConfig load(Map<String, String> env) {
    JsonObject defaults = readDefaults();
    JsonObject file = new JsonObject();
    String path = env.get("RELAY_CONFIG");
    if (path != null && !path.isBlank()) {
      file = readFile(Path.of(path));
    }
    return from(new Settings(defaults, file, env));
  }

  private static RelayConfig from(Settings s) {
    return new RelayConfig(
        nonBlank(s, "http.host"),
        s.integer("http.port", 0, 65535),
        s.integer("http.instances", 0, 256),
        s.integer("http.max_body_bytes", 1024, 64 * 1024 * 1024),
        Duration.ofSeconds(s.integer("http.idle_timeout_seconds", 1, 86_400)),
        Duration.ofMillis(s.integer("http.header_timeout_ms", 100, 600_000)),
        Duration.ofMillis(s.integer("http.body_timeout_ms", 100, 600_000)),
        Duration.ofMillis(s.integer("http.request_timeout_ms", 100, 600_000)),
        adminToken(s),
        ServerName.read(s),
        Path.of(nonBlank(s, "data.dir")),
        optional(s.string("pg.url")),
        s.integer("pg.pool_size", 1, 512),
        Duration.ofMillis(s.integer("pg.timeout_ms", 100, 600_000)),
        s.integer("pg.embedded_port", 0, 65535),
        masterKey(s),
        previousMasterKeys(s),
        Duration.ofSeconds(s.integer("inbound.signature_tolerance_seconds", 1, 86_400)),
        Duration.ofSeconds(s.integer("inbound.dedupe_window_seconds", 1, 7 * 86_400)),
        s.integer("inbound.paused_retry_after_seconds", 1, 86_400),
        Duration.ofSeconds(s.integer("inbound.secret_grace_seconds", 0, 7 * 86_400)),
        s.integer("inbound.signature_failure_audits_per_minute", 0, 1_000_000),
        s.integer("eventlog.max_batch", 1, 10_000),
        s.integer("eventlog.window_ms", 0, 1_000),
        s.integer("eventlog.max_pending", 1, 10_000_000),
        s.integer("eventlog.max_in_flight", 1, 64),
        Duration.ofSeconds(s.integer("bridges.cache_ttl_seconds", 1, 86_400)),
        Duration.ofSeconds(s.integer("webhooks.secret_grace_seconds", 0, 30 * 86_400)),
        Duration.ofSeconds(s.integer("auth.client_secret_grace_seconds", 0, 30 * 86_400)),
        Duration.ofSeconds(s.integer("auth.max_token_lifetime_seconds", 60, 7 * 86_400)),
        Duration.ofSeconds(s.integer("auth.revocation_check_seconds", 1, 3_600)),
        Duration.ofSeconds(s.integer("auth.authorization_code_seconds", 10, 600)),
        oidc(s),
        new Delivery(
            Duration.ofSeconds(s.integer("deliveries.lease_seconds", 1, 3_600)),
            Duration.ofMillis(s.integer("deliveries.sweep_interval_ms", 10, 600_000)),
            Duration.ofMillis(s.integer("deliveries.backoff_initial_ms", 1, 3_600_000)),
            Duration.ofMillis(s.integer("deliveries.backoff_max_ms", 1, 86_400_000)),
            s.integer("deliveries.backoff_jitter_percent", 0, 100),
            Duration.ofSeconds(s.integer("deliveries.retry_window_seconds", 1, 30 * 86_400)),
            s.integer("deliveries.rate_limit_retries", 0, 1_000),
            s.integer("deliveries.max_in_flight", 1, 1_000),
            s.integer("deliveries.prefetch", 1, 1_000),
            s.integer("deliveries.result_batch_max", 1, 10_000),
            s.integer("deliveries.breaker_max_failures", 1, 1_000),
            Duration.ofMillis(s.integer("deliveries.breaker_reset_ms", 1, 3_600_000)),
            Duration.ofHours(s.integer("deliveries.retention_hours", 1, 24 * 3650)),
            Duration.ofSeconds(s.integer("deliveries.broken_hold_seconds", 1, 7 * 86_400))),
        new Retention(
            Duration.ofDays(s.integer("retention.events_days", 0, 100 * 365)),
            Duration.ofDays(s.integer("retention.audit_days", 0, 100 * 365)),
            Duration.ofSeconds(s.integer("retention.interval_seconds", 1, 86_400)),
            s.integer("retention.batch_size", 1, 100_000),
            Duration.ofMillis(s.integer("retention.batch_pause_ms", 0, 60_000))),
        new Outbound(
            Duration.ofMillis(s.integer("outbound.connect_timeout_ms", 1, 600_000)),
            Duration.ofMillis(s.integer("outbound.response_timeout_ms", 1, 600_000)),
            s.integer("outbound.max_connections_per_host", 1, 10_000),
            s.bool("outbound.allow_loopback"),
            s.bool("outbound.allow_private_networks")),
        new Platforms(
            baseUrl(s, "slack.api_url"),
            Duration.ofMillis(s.integer("slack.pace_ms", 0, 60_000)),
            s.integer("slack.coalesce_backlog", 2, 10_000),
            s.integer("slack.coalesce_max", 1, 100),
            Duration.ofSeconds(s.integer("slack.profile_cache_seconds", 0, 7 * 86_400)),
            baseUrl(s, "discord.api_url"),
            baseUrl(s, "discord.gateway_url"),
            Duration.ofMillis(s.integer("teams.pace_ms", 0, 60_000))),
        cluster(s),
        new Metrics(
            s.bool("metrics.enabled"),
            optional(s.string("metrics.token")),
            Duration.ofMillis(s.integer("metrics.outbox_interval_ms", 100, 3_600_000))),
        new Operations(
            s.oneOf("log.level", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"),
            s.oneOf("log.format", "text", "json"),
            s.oneOf("log.requests", "off", "debug", "info"),
            Duration.ofSeconds(s.integer("shutdown.deadline_seconds", 1, 3_600))));
  }

  /** An http(s) or ws(s) URL with a host, without its trailing slash. */
  private static String baseUrl(Settings s, String key) {
    String value = nonBlank(s, key).trim();
    try {
      java.net.URI uri = new java.net.URI(value);
      if (uri.getHost() == null || uri.getScheme() == null || !uri.getScheme().matches("(?i)https?|wss?")) {
        throw s.invalid(key, value, "an http(s) or ws(s) URL with a host");
      }
    } catch (java.net.URISyntaxException e) {
      throw s.invalid(key, value, "an http(s) or ws(s) URL with a host");
    }
    return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
  }

  private static Oidc oidc(Settings s) {
    Optional<String> issuer = optional(s.string("auth.oidc_issuer"));
    if (issuer.isPresent()) {
      httpUrl(s, "auth.oidc_issuer", issuer.get());
    }
    Optional<String> jwks = optional(s.string("auth.oidc_jwks_url"));
    if (jwks.isPresent()) {
      httpUrl(s, "auth.oidc_jwks_url", jwks.get());
    }
    return new Oidc(issuer, jwks, optional(s.string("auth.oidc_audience")), nonBlank(s, "auth.oidc_scopes_claim").trim());
  }

  /** An http(s) URL with a host, kept as written. */
  private static void httpUrl(Settings s, String key, String value) {
    try {
      java.net.URI uri = new java.net.URI(value);
      if (uri.getHost() != null && uri.getScheme() != null && uri.getScheme().matches("(?i)https?") && uri.getRawQuery() == null
          && uri.getRawFragment() == null) {
        return;
      }
    } catch (java.net.URISyntaxException e) {
      // answered below
    }
    throw s.invalid(key, value, "an http(s) URL with a host, without query or fragment");
  }

  private static Cluster cluster(Settings s) {
    List<String> members = new ArrayList<>();
    for (String member : s.string("cluster.members").split(",")) {
      String trimmed = member.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int colon = trimmed.lastIndexOf(':');
      boolean valid = colon > 0 && colon < trimmed.length() - 1;
      if (valid) {
        try {
          int port = Integer.parseInt(trimmed.substring(colon + 1));
          valid = port > 0 && port <= 65535;
        } catch (NumberFormatException e) {
          valid = false;
        }
      }
      if (!valid) {
        throw s.invalid("cluster.members", s.string("cluster.members"), "a comma-separated list of host:port");
      }
      members.add(trimmed);
    }
    return new Cluster(
        s.bool("cluster.enabled"),
        nonBlank(s, "cluster.name"),
        nonBlank(s, "cluster.host"),
        s.integer("cluster.port", 1, 65535),
        List.copyOf(members),
        Duration.ofSeconds(s.integer("cluster.failure_timeout_seconds", 2, 600)),
        Duration.ofMillis(s.integer("cluster.node_lease_ms", 500, 600_000)),
        optional(s.string("cluster.hazelcast_config")).map(Path::of));
  }

  /** The number of HTTP verticle instances: the configured count, or one per core. */
  public int effectiveHttpInstances() {
    return httpInstances > 0 ? httpInstances : Runtime.getRuntime().availableProcessors();
  }

  private static String nonBlank(Settings s, String key) {
    String value = s.string(key);
    if (value.isBlank()) {
      throw s.invalid(key, value, "a non-empty value");
    }
    return value;
  }

  private static Optional<String> optional(String value) {
    return value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static Optional<String> adminToken(Settings s) {
    Optional<String> token = optional(s.string("admin.token"));
    if (token.isPresent() && token.get().length() < MIN_ADMIN_TOKEN_LENGTH) {
      throw s.invalid("admin.token", "<hidden>", "at least " + MIN_ADMIN_TOKEN_LENGTH + " characters long");
    }
    return token;
  }

  private static Optional<byte[]> masterKey(Settings s) {
    return optional(s.string("secrets.master_key")).map(raw -> masterKey(s, "secrets.master_key", raw,
        MASTER_KEY_BYTES + " random bytes in base64 (e.g. `openssl rand -base64 32`)"));
  }

  /** The keys a rotation replaces (README, "Rotating the master key"): they open what they sealed, never seal. */
  private static List<byte[]> previousMasterKeys(Settings s) {
    List<byte[]> keys = new ArrayList<>();
    for (String raw : s.string("secrets.previous_master_keys").split(",")) {
      if (!raw.isBlank()) {
        keys.add(masterKey(s, "secrets.previous_master_keys", raw.trim(), "a comma-separated list of master keys, each "
            + MASTER_KEY_BYTES + " bytes in base64"));
      }
    }
    return List.copyOf(keys);
  }

  private static byte[] masterKey(Settings s, String key, String raw, String expected) {
    try {
      byte[] bytes = Base64.getDecoder().decode(raw);
      if (bytes.length != MASTER_KEY_BYTES) {
        throw s.invalid(key, "<hidden>", expected);
      }
      return bytes;
    } catch (IllegalArgumentException e) {
      throw s.invalid(key, "<hidden>", expected);
    }
  }

  private static JsonObject readDefaults() {
    try (InputStream in = RelayConfig.class.getResourceAsStream("/conf/relay.json")) {
      if (in == null) {
        throw new ConfigException("conf/relay.json is missing from the class path; the build is broken");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("cannot read the built-in conf/relay.json: " + e.getMessage());
    }
  }

  private static JsonObject readFile(Path path) {
    try {
      return new JsonObject(Files.readString(path));
    } catch (IOException e) {
      throw new ConfigException("cannot read RELAY_CONFIG file " + path + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("RELAY_CONFIG file " + path + " is not a JSON object: " + e.getMessage());
    }
  }
}
