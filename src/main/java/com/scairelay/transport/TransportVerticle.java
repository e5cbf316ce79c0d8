package com.scairelay.transport;

import com.scairelay.config.RelayConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

import java.time.Clock;

/**
 * Sends deliveries for the queue actors of this node: one instance per event loop, each with its own
 * {@link HttpSender}. Listens on a node-local address only: a transport call never leaves the node.
 */
public final class TransportVerticle extends VerticleBase {
  /** Node-local. Body: a {@link TransportRequest} as JSON; header {@code connector}: the connector's name. */
  public static final String ADDRESS = "relay.transport";
  public static final String CONNECTOR_HEADER = "connector";

  private final Connectors connectors;
  private final RelayConfig.Outbound settings;
  private final OutboundGuard guard;
  private final Clock clock;
  private HttpSender sender;

  public TransportVerticle(Connectors connectors, RelayConfig.Outbound settings, OutboundGuard guard, Clock clock) {
    this.connectors = connectors;
    this.settings = settings;
    this.guard = guard;
    this.clock = clock;
  }

  /** How an actor addresses a request to the connector named {@code connector}. */
  public static DeliveryOptions options(String connector, long timeoutMs) {
    return new DeliveryOptions().setLocalOnly(true).addHeader(CONNECTOR_HEADER, connector).setSendTimeout(timeoutMs);
  }

  @Override
  public Future<?> start() {
    sender = new HttpSender(vertx, settings, guard, clock);
    return vertx.eventBus().<JsonObject>localConsumer(ADDRESS, message -> {
      String name = message.headers().get(CONNECTOR_HEADER);
      TransportRequest request = TransportRequest.fromJson(message.body());
      Future<TransportResult> sent = connectors.find(name)
          .map(connector -> sender.send(request, connector))
          .orElseGet(() -> Future.succeededFuture(TransportResult.failed(Outcome.PERMANENT, "no connector '" + name + "' on this node", 0)));
      sent.onSuccess(result -> message.reply(result.toJson()));
    }).completion();
  }

  @Override
  public Future<?> stop() {
    sender.close();
    return Future.succeededFuture();
  }
}
