package com.scairelay.targets;

import java.util.List;

/**
 * Which node runs a target's queue actor. The delivery side asks it on every wake-up and sweep, and
 * hands its targets over when it says they moved. Correctness never rests on it: the holder of the
 * target in PostgreSQL ({@code target_owners}, fenced by {@link NodeLease}) decides who may send,
 * this only decides who should try.
 */
public interface Ownership {
  /** The node id of the target's owner. */
  String ownerOf(String targetId);

  /** The node ids of the members now. */
  List<String> members();

  /** The members among which targets are shared now: those holding a valid lease. */
  default List<String> owners() {
    return members();
  }

  /** Called, on any thread, after the members changed: owners may have moved. */
  void onChange(Runnable listener);

  /**
   * The nodes whose lease in PostgreSQL is valid now, read after every renewal of this node's lease:
   * a member without one (it lost PostgreSQL, or has not started delivering yet) owns nothing until it
   * has one, so the others take its targets over.
   */
  default void leasesValid(java.util.Set<String> nodeIds) {
  }

  /** A node alone: it owns everything. */
  static Ownership singleNode(String nodeId) {
    return new Ownership() {
      @Override
      public String ownerOf(String targetId) {
        return nodeId;
      }

      @Override
      public List<String> members() {
        return List.of(nodeId);
      }

      @Override
      public void onChange(Runnable listener) {
      }
    };
  }
}
