package com.scairelay.store;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A secret that rotates with a grace period (bridge and webhook secrets, application secret hashes):
 * the current value, and the one it replaced, which stays valid until {@code previousExpiresAt}.
 * Stored in {@code <column>} and {@code previous_<column>} beside {@code previous_secret_expires_at};
 * {@link #rotateSql} is the one statement that rotates it.
 */
public record RotatingSecret<T>(T current, T previous, Instant previousExpiresAt) {

  public static <T> RotatingSecret<T> of(T current) {
    return new RotatingSecret<>(current, null, null);
  }

  /** The values a credential may match at {@code now}: the current one, then the previous during its grace. */
  public List<T> valid(Instant now) {
    List<T> valid = new ArrayList<>(2);
    valid.add(current);
    if (previous != null && previousExpiresAt != null && now.isBefore(previousExpiresAt)) {
      valid.add(previous);
    }
    return valid;
  }

  /** Adds {@code previous_secret_expires_at} to an API answer while a previous value is kept. */
  public JsonObject describeInto(JsonObject json) {
    if (previousExpiresAt != null) {
      json.put("previous_secret_expires_at", previousExpiresAt.toString());
    }
    return json;
  }

  /**
   * Makes {@code $2} the current value of a live row whose {@code idColumn} is {@code $1}, keeps the old
   * one until {@code $3}, and sets {@code updated_at} to {@code $4}.
   */
  public static String rotateSql(String table, String idColumn, String column) {
    return "UPDATE " + table + " SET previous_" + column + " = " + column + ", previous_secret_expires_at = $3, " + column + " = $2,"
        + " updated_at = $4 WHERE " + idColumn + " = $1 AND deleted_at IS NULL";
  }
}
