package com.scairelay;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.auth.AccessGuard;
import com.scairelay.auth.ApiKeyStore;
import com.scairelay.auth.ApplicationStore;
import com.scairelay.auth.TokenService;
import com.scairelay.bridges.BridgeCounters;
import com.scairelay.bridges.BridgeRegistry;
import com.scairelay.bridges.BridgeStore;
import com.scairelay.config.RelayConfig;
import com.scairelay.eventlog.EventLog;
import com.scairelay.rooms.RoomStore;
import com.scairelay.targets.DeliveryStore;
import com.scairelay.transport.OutboundGuard;
import com.scairelay.webhooks.WebhookStore;
import io.vertx.sqlclient.Pool;

import java.time.Clock;

/** What a node's verticles share: built once by {@link RelayNode}, thread-safe, handed to each instance. */
public record Services(
    RelayConfig config,
    Clock clock,
    Pool pool,
    AccessGuard guard,
    AuditLog audit,
    FailureAuditLimiter failureAudits,
    BridgeStore bridges,
    BridgeRegistry bridgeRegistry,
    BridgeCounters bridgeCounters,
    RoomStore rooms,
    EventLog.Stats eventLogStats,
    DeliveryStore deliveries,
    OutboundGuard outboundGuard,
    WebhookStore webhooks,
    TokenService tokens,
    ApplicationStore applications,
    ApiKeyStore apiKeys) {
}
