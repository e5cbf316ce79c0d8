package com.scairelay.transport;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The bridge an inbound request or a platform connection is for, as a connector sees it: its settings,
 * its platform credentials, and the shared secrets valid now (the current one, the previous in its grace).
 */
public record InboundBridge(String id, String roomId, JsonObject config, JsonObject credentials, List<String> sharedSecrets) {
}
