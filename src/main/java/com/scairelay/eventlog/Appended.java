package com.scairelay.eventlog;

/** The answer to an append: the event's id, and whether it was a duplicate of an earlier inbound event. */
public record Appended(String eventId, boolean duplicate) {
}
