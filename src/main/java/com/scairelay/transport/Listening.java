package com.scairelay.transport;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * What a connector that opens its own platform connections gets from the node: the live bridges of its
 * transport, whether this node should hold the connection named by a key (one per bot token across the
 * cluster: the key's owner by rendezvous hashing), a way to hear that either may have changed ({@code
 * onChange} runs the given task after a bridge or the cluster's membership changed), and the sink that
 * stores what the platform sent, and the admin alert.
 */
public record Listening(Vertx vertx, Clock clock, Bridges bridges, Predicate<String> owns, Consumer<Runnable> onChange, Sink sink,
                        Alerts alerts, InboundContext context) {

  /** Raises the admin alert for a bridge whose platform connection cannot work (a revoked token, a missing intent). */
  public interface Alerts {
    Future<Void> raise(String bridgeId, String reason);
  }

  /** The live bridges of a transport, with credentials. */
  public interface Bridges {
    /** Those to listen for: accepting inbound and not paused. */
    Future<List<InboundBridge>> of(String transport);

    /** Every bridge of the transport not deleted, outbound-only and paused ones too (whose posts are our echoes). */
    default Future<List<InboundBridge>> all(String transport) {
      return of(transport);
    }
  }

  /** Stores an event heard on a platform connection; answers true when it was new (not a duplicate). */
  public interface Sink {
    Future<Boolean> store(InboundBridge bridge, InboundEvent event);
  }
}
