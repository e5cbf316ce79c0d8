package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import com.scairelay.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's connectors by name: the admin API asks it which transports a bridge may use and how to
 * validate one, the queue actors which connector renders a target's deliveries, and the inbound route
 * which adapter reads a platform's request. It also lends connectors what they share outside a delivery:
 * an {@link HttpSender} per event loop (platform API calls while setting up a bridge or reading inbound)
 * and the {@link ForeignIds} map.
 */
public final class Connectors {
  public static final String CUSTOM = CustomConnector.NAME;
  public static final String WEBHOOK = WebhookConnector.NAME;

  private final Map<String, Connector> byName = new ConcurrentHashMap<>();
  private final Map<Thread, HttpSender> senders = new ConcurrentHashMap<>();
  private final Vertx vertx;
  private final RelayConfig.Outbound outbound;
  private final OutboundGuard guard;
  private final Clock clock;
  private final ForeignIds foreignIds;
  private final ShadowProfiles profiles;

  public Connectors(Vertx vertx, RelayConfig.Outbound outbound, OutboundGuard guard, Clock clock, ForeignIds foreignIds,
                    ShadowProfiles profiles) {
    this.vertx = vertx;
    this.outbound = outbound;
    this.guard = guard;
    this.clock = clock;
    this.foreignIds = foreignIds;
    this.profiles = profiles;
  }

  /** The connectors every node has: {@code custom} bridges and {@code webhook} subscriptions, then the platforms'. */
  public static Connectors builtIn(Vertx vertx, RelayConfig config, OutboundGuard guard, Clock clock, ForeignIds foreignIds,
                                   ShadowProfiles profiles) {
    return new Connectors(vertx, config.outbound(), guard, clock, foreignIds, profiles)
        .register(new CustomConnector(guard))
        .register(new WebhookConnector())
        .register(new com.scairelay.transport.slack.SlackConnector(config.platforms()))
        .register(new com.scairelay.transport.discord.DiscordConnector(config.platforms().discordApiUrl(),
            config.platforms().discordGatewayUrl()))
        .register(new com.scairelay.transport.teams.TeamsConnector(guard, config.platforms().teamsPace()));
  }

  public Connectors register(Connector connector) {
    byName.put(connector.name(), connector);
    return this;
  }

  public Optional<Connector> find(String name) {
    return Optional.ofNullable(name == null ? null : byName.get(name));
  }

  /** The connector a bridge of {@code transport} uses, or a 400 naming the transports there are. */
  public Connector forBridge(String transport) {
    return find(transport).filter(Connector::servesBridges).orElseThrow(() -> ProblemException.badRequest(
        "field 'transport' must be one of " + bridgeTransports() + " on this node, got '" + transport + "'"));
  }

  public JsonArray bridgeTransports() {
    List<String> names = byName.values().stream().filter(Connector::servesBridges).map(Connector::name).sorted().toList();
    return new JsonArray(names);
  }

  /** The sender of the calling event loop, made on first use; a WebClient is used on the loop that made it. */
  public HttpSender sender() {
    return senders.computeIfAbsent(Thread.currentThread(), t -> new HttpSender(vertx, outbound, guard, clock));
  }

  /** What an inbound adapter may use on the calling event loop. */
  public InboundContext inboundContext() {
    return new InboundContext(sender(), foreignIds, profiles, clock);
  }

  /** Starts the connectors that open their own platform connections. */
  public Future<Void> startListening(Listening listening) {
    return Future.all(byName.values().stream().map(c -> c.startListening(listening)).toList()).mapEmpty();
  }

  /** Closes the platform connections and the senders lent out. */
  public Future<Void> stop() {
    return Future.join(byName.values().stream().map(Connector::stopListening).toList())
        .<Void>mapEmpty()
        .otherwiseEmpty()
        .onComplete(ar -> {
          senders.values().forEach(HttpSender::close);
          senders.clear();
        });
  }
}
