package com.scairelay.targets;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The node's target kinds by name; registered at start-up, before the delivery side is deployed. */
public final class TargetKinds {
  private final Map<String, TargetKind> byName = new LinkedHashMap<>();

  public TargetKinds register(TargetKind kind) {
    byName.put(kind.name(), kind);
    return this;
  }

  TargetKind get(String name) {
    TargetKind kind = byName.get(name);
    if (kind == null) {
      throw new IllegalArgumentException("no target kind '" + name + "'");
    }
    return kind;
  }

  Collection<TargetKind> all() {
    return byName.values();
  }
}
