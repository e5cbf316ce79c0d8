package com.scairelay.metrics;

import com.scairelay.config.RelayConfig;
import com.scairelay.http.Routes;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Match;
import io.vertx.micrometer.MatchType;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of one node: one Prometheus registry that Vert.x's own metrics (HTTP server and client,
 * event bus, pools, PostgreSQL pools among them), the JVM's and every part's {@code relay_*} meters
 * are registered in, served as {@code GET /metrics} on the node's HTTP port. Made before the node's
 * Vert.x, which is built with it ({@link #vertx}). With {@code metrics.enabled} false, the parts
 * register their meters in a registry that keeps nothing, Vert.x collects nothing and there is no
 * {@code /metrics}.
 */
public final class NodeMetrics {
  /** Vert.x keeps the registries it reports to by name, per JVM: each node of a JVM (tests) needs its own. */
  private static final AtomicInteger NODES = new AtomicInteger();

  private final RelayConfig.Metrics settings;
  private final PrometheusMeterRegistry prometheus;
  private final MeterRegistry registry;
  private final String registryName = "scairelay-node-" + NODES.incrementAndGet();
  private JvmGcMetrics gc;
  private EventLoopDelay loops;

  private NodeMetrics(RelayConfig.Metrics settings) {
    this.settings = settings;
    this.prometheus = settings.enabled() ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
    this.registry = prometheus != null ? prometheus : new CompositeMeterRegistry();
  }

  public static NodeMetrics of(RelayConfig.Metrics settings) {
    return new NodeMetrics(settings);
  }

  /** A node without metrics (what the parts register goes nowhere). */
  public static NodeMetrics off() {
    return new NodeMetrics(new RelayConfig.Metrics(false, Optional.empty(), Duration.ofSeconds(5)));
  }

  public boolean enabled() {
    return prometheus != null;
  }

  /** Where the parts register their meters; a registry that keeps nothing when metrics are off. */
  public MeterRegistry registry() {
    return registry;
  }

  /** A builder of this node's Vert.x, which reports its own metrics to this registry when metrics are on. */
  public VertxBuilder vertx(VertxOptions options) {
    if (!enabled()) {
      return Vertx.builder().with(options);
    }
    // Vert.x's default labels only: method, status code, pool type and name, event-bus side; never an
    // address (relay.room.<id>) or a remote host. The HTTP client keeps one pool per foreign host:port:
    // their meters are added up under pool_name="outbound", one series however many endpoints there are.
    options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setRegistryName(registryName)
        .addLabelMatch(new Match().setDomain(MetricsDomain.NAMED_POOLS).setLabel("pool_name").setType(MatchType.REGEX)
            .setValue(".*:[0-9]+").setAlias("outbound")));
    return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(prometheus));
  }

  /** Starts what needs the node's Vert.x: the JVM's meters and the event-loop delay probes. */
  public void start(Vertx vertx) {
    if (!enabled() || loops != null) {
      return;
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    loops = EventLoopDelay.start(vertx, registry);
  }

  /** {@code GET /metrics}, mounted on every event loop's router (nothing when metrics are off). */
  public Routes routes() {
    if (!enabled()) {
      return router -> { };
    }
    return new MetricsRoutes(prometheus, settings.token());
  }

  /** Stops the probes and the JVM listeners (the node stops; its Vert.x is closed after). */
  public void stop() {
    if (loops != null) {
      loops.stop();
    }
    if (gc != null) {
      gc.close();
    }
  }
}
