package com.scairelay.transport;

import java.time.Clock;

/**
 * What an adapter may use while reading a request: the node's HTTP sender on this loop, the foreign id
 * map, the shadow participants' profiles, the clock.
 */
public record InboundContext(HttpSender sender, ForeignIds foreignIds, ShadowProfiles profiles, Clock clock) {
}
