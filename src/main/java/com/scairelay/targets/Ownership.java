package com.scairelay.targets;

/**
 * Which node runs a target's queue actor. The delivery side asks it on every wake-up and sweep; a
 * single node owns every target. Correctness never rests on it: the lease in PostgreSQL decides who
 * may send, this only decides who should try.
 */
public interface Ownership {
  /** The node id of the target's owner. */
  String ownerOf(String targetId);

  /** A node alone: it owns everything. */
  static Ownership singleNode(String nodeId) {
    return targetId -> nodeId;
  }
}
