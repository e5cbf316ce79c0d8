package com.scairelay.cluster;

import com.scairelay.targets.Ownership;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Rendezvous (highest random weight) hashing of target ids over the current members: every node that
 * sees the same members picks the same owner, and when a member joins or leaves only the targets it
 * wins or held move. The members come from Hazelcast ({@link ClusterNode}); a member whose lease in
 * PostgreSQL has run out is left out until it holds one again.
 */
public final class Rendezvous implements Ownership {
  private volatile List<Member> members = List.of();
  private volatile List<Member> owners = List.of();
  private volatile Set<String> leased;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  private record Member(String nodeId, long seed) {
  }

  @Override
  public String ownerOf(String targetId) {
    List<Member> current = owners;
    long target = fnv1a(targetId);
    String best = null;
    long bestScore = 0;
    for (Member member : current) {
      long score = mix(member.seed() ^ target);
      if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
        best = member.nodeId();
        bestScore = score;
      }
    }
    return best;
  }

  @Override
  public List<String> members() {
    return members.stream().map(Member::nodeId).toList();
  }

  @Override
  public List<String> owners() {
    return owners.stream().map(Member::nodeId).toList();
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public synchronized void leasesValid(Set<String> nodeIds) {
    leased = Set.copyOf(nodeIds);
    recompute();
  }

  /** The members now (in any order); tells the listeners. */
  synchronized void update(List<String> nodeIds) {
    members = nodeIds.stream().sorted().map(id -> new Member(id, mix(fnv1a(id)))).toList();
    recompute();
  }

  /**
   * Targets are shared among the members that hold a lease in PostgreSQL (all of them until the first
   * sweep has read the leases, or should none hold one); listeners hear of every change.
   */
  private void recompute() {
    Set<String> valid = leased;
    List<Member> candidates = valid == null ? members : members.stream().filter(m -> valid.contains(m.nodeId())).toList();
    List<Member> next = candidates.isEmpty() ? members : candidates;
    if (!next.equals(owners)) {
      owners = next;
      listeners.forEach(Runnable::run);
    }
  }

  private static long fnv1a(String value) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return hash;
  }

  /** MurmurHash3's 64-bit finalizer: every input bit changes about half the output bits. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
