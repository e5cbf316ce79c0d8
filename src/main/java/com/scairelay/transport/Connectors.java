package com.scairelay.transport;

import com.scairelay.http.ProblemException;
import io.vertx.core.json.JsonArray;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's connectors by name: the admin API asks it which transports a bridge may use and how to
 * validate one, the queue actors which connector renders a target's deliveries, and the inbound route
 * which adapter reads a platform's request.
 */
public final class Connectors {
  public static final String CUSTOM = CustomConnector.NAME;
  public static final String WEBHOOK = WebhookConnector.NAME;

  private final Map<String, Connector> byName = new ConcurrentHashMap<>();

  /** The connectors every node has: {@code custom} bridges and {@code webhook} subscriptions. */
  public static Connectors builtIn(OutboundGuard guard) {
    return new Connectors().register(new CustomConnector(guard)).register(new WebhookConnector());
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
}
