package com.scairelay.audit;

import java.time.Instant;

/**
 * Which audit events a page shows: those matching every filter given (null: any), from
 * {@code since} (inclusive) to {@code until} (exclusive), oldest first after the event {@code cursor}
 * or, {@code newestFirst}, newest first before it; at most {@code limit}.
 */
public record AuditQuery(Category category, String action, String resourceId, String userId, Instant since, Instant until,
                         boolean newestFirst, String cursor, int limit) {
}
