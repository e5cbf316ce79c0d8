package com.scairelay.transport.discord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this node knows of messages it split into several Discord messages, in memory and bounded:
 * the parts a delivery has posted so far (so a retry after a later part failed posts only the rest), and,
 * once a split message is delivered, the ids of its later parts (so deleting it deletes them all).
 *
 * <p>Not shared between nodes, nor kept over a restart: should the target move to another node, or the
 * node restart, between a part that failed and its retry, the retry posts the earlier parts again; a delete
 * handled by another node removes only the first part (the one whose id the core records).
 */
final class SplitMessages {
  private final int capacity;
  private final Map<Long, List<String>> posted;
  private final Map<String, List<String>> laterParts;

  SplitMessages(int capacity) {
    this.capacity = capacity;
    this.posted = bounded();
    this.laterParts = bounded();
  }

  /** The ids of the parts delivery {@code deliveryId} has posted, in order (empty: none yet). */
  synchronized List<String> posted(long deliveryId) {
    List<String> ids = posted.get(deliveryId);
    return ids == null ? List.of() : List.copyOf(ids);
  }

  synchronized void partPosted(long deliveryId, String messageId) {
    posted.computeIfAbsent(deliveryId, id -> new ArrayList<>()).add(messageId);
  }

  /** The delivery posted all {@code ids}: forget its progress, remember its later parts under the first one. */
  synchronized void delivered(long deliveryId, List<String> ids) {
    posted.remove(deliveryId);
    if (ids.size() > 1) {
      laterParts.put(ids.get(0), List.copyOf(ids.subList(1, ids.size())));
    }
  }

  /** The later parts of the message whose first part is {@code firstId}, if this node split it. */
  synchronized List<String> laterParts(String firstId) {
    return laterParts.getOrDefault(firstId, List.of());
  }

  synchronized void forget(String firstId) {
    laterParts.remove(firstId);
  }

  private <K, V> Map<K, V> bounded() {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
      }
    };
  }
}
