package com.scairelay.bridges;

/** Which way a bridge carries messages. */
public enum Direction {
  INBOUND, OUTBOUND, BOTH;

  public boolean acceptsInbound() {
    return this != OUTBOUND;
  }

  public boolean sendsOutbound() {
    return this != INBOUND;
  }

  public String wireName() {
    return name().toLowerCase();
  }
}
