package com.scairelay.http;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Times an admin gives in a query or a body: ISO-8601 date-times with an offset, answered 400 with an example when wrong. */
public final class IsoTime {
  private static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999Z");

  private IsoTime() {
  }

  /**
   * {@code value} as an instant; {@code where} names it in the problem ({@code "query parameter 'since'"}).
   * Null stays null. Microseconds are kept, as PostgreSQL keeps them.
   */
  public static Instant parse(String where, String value) {
    if (value == null) {
      return null;
    }
    Instant instant;
    try {
      instant = OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(where + " must be an ISO-8601 date-time with an offset, like 2026-11-23T01:48:55Z"
          + " or 2026-11-23T02:48:55+01:00; got '" + shorten(value) + "'");
    }
    if (instant.isBefore(FIRST) || instant.isAfter(LAST)) {
      throw ProblemException.badRequest(where + " must be between the years 1 and 9999; got '" + shorten(value) + "'");
    }
    return instant;
  }

  private static String shorten(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "…";
  }
}
