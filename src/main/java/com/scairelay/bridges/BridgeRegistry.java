package com.scairelay.bridges;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's read-through cache of bridges for the inbound path, shared by every HTTP event loop.
 * An admin change invalidates the entry on every node through the event bus at once; the TTL only
 * bounds how stale an entry can get should such a message be lost.
 */
public final class BridgeRegistry {
  public static final String CHANGED_ADDRESS = "relay.bridges.changed";
  /** Unknown ids are remembered only while the cache is smaller than this, so random ids cannot grow it. */
  private static final int MAX_ENTRIES_FOR_UNKNOWN = 100_000;

  private record Entry(Optional<Bridge> bridge, long loadedAtNanos) {
  }

  private final BridgeStore store;
  private final long ttlNanos;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();

  public BridgeRegistry(Vertx vertx, BridgeStore store, Duration ttl) {
    this.store = store;
    this.ttlNanos = ttl.toNanos();
    vertx.eventBus().<String>consumer(CHANGED_ADDRESS, message -> evict(message.body()));
  }

  /** The live bridge, or empty when it is unknown or deleted. */
  public Future<Optional<Bridge>> find(String id) {
    Entry entry = entries.get(id);
    if (entry != null && System.nanoTime() - entry.loadedAtNanos() < ttlNanos) {
      return Future.succeededFuture(entry.bridge());
    }
    long seen = generation.get();
    return store.find(id).onSuccess(bridge -> {
      if (generation.get() == seen && (bridge.isPresent() || entries.size() < MAX_ENTRIES_FOR_UNKNOWN)) {
        entries.put(id, new Entry(bridge, System.nanoTime()));
      }
    });
  }

  /** Drops this node's copy now and tells every other node to drop theirs. */
  public void changed(Vertx vertx, String id) {
    evict(id);
    vertx.eventBus().publish(CHANGED_ADDRESS, id);
  }

  private void evict(String id) {
    generation.incrementAndGet();
    entries.remove(id);
  }
}
