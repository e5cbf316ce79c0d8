package com.scairelay.eventlog;

/** PostgreSQL refused this event's data (text it cannot store exactly as sent); the others of its batch were stored. */
public final class Unstorable extends RuntimeException {
  Unstorable(String detail) {
    super(detail, null, false, false);
  }
}
