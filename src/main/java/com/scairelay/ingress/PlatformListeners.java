package com.scairelay.ingress;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.bridges.Bridge;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.bridges.BridgeStore;
import com.scairelay.eventlog.EventLog;
import com.scairelay.targets.Ownership;
import com.scairelay.transport.Connectors;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundEvent;
import com.scairelay.transport.Listening;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The inbound side of platforms that deliver over a connection the node opens (Discord's Gateway):
 * starts the connectors' listeners on this verticle's event loop and stores what they hear through an
 * event log of its own, as the inbound route stores a webhook.
 */
public final class PlatformListeners extends VerticleBase {
  private final Connectors connectors;
  private final BridgeStore bridges;
  private final Ownership ownership;
  private final Function<Vertx, EventLog> eventLogs;
  private final Clock clock;
  private final String nodeId;
  private final AuditLog audit;

  public PlatformListeners(Connectors connectors, BridgeStore bridges, Ownership ownership, String nodeId, AuditLog audit,
                           Function<Vertx, EventLog> eventLogs, Clock clock) {
    this.audit = audit;
    this.nodeId = nodeId;
    this.connectors = connectors;
    this.bridges = bridges;
    this.ownership = ownership;
    this.eventLogs = eventLogs;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    EventLog eventLog = eventLogs.apply(vertx);
    Listening.Bridges live = new Listening.Bridges() {
      @Override
      public Future<List<InboundBridge>> of(String transport) {
        return of(transport, b -> b.direction().acceptsInbound() && !b.paused());
      }

      @Override
      public Future<List<InboundBridge>> all(String transport) {
        return of(transport, b -> true);
      }

      private Future<List<InboundBridge>> of(String transport, Predicate<Bridge> which) {
        return bridges.list().map(all -> all.stream().filter(b -> b.transport().equals(transport) && which.test(b))
            .map(b -> b.inbound(Instant.now(clock))).toList());
      }
    };
    Listening.Sink sink = (InboundBridge bridge, InboundEvent event) ->
        eventLog.append(InboundRoute.toWrite(event, bridge.id(), bridge.roomId())).map(appended -> !appended.duplicate());
    Listening.Alerts alerts = (bridgeId, reason) -> audit.record(audit.event(Category.SECURITY, "bridge.unreachable", null, bridgeId,
        new JsonObject().put("bridge_id", bridgeId).put("reason", reason)));
    Listening listening = new Listening(vertx, clock, live, this::ownsHere, this::onChange, sink, alerts, connectors.inboundContext());
    return connectors.startListening(listening);
  }

  /** The rendezvous owner of {@code key} is this node. */
  private boolean ownsHere(String key) {
    String owner = ownership.ownerOf(key);
    return owner != null && owner.equals(nodeId);
  }

  /** Runs {@code task} on this loop after a bridge or the cluster's membership changed. */
  private void onChange(Runnable task) {
    vertx.eventBus().<String>consumer(BridgeRegistry.CHANGED_ADDRESS, m -> task.run());
    ownership.onChange(() -> context.runOnContext(v -> task.run()));
  }

  @Override
  public Future<?> stop() {
    return connectors.stop();
  }
}
