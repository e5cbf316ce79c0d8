package com.scairelay.targets;

import com.scairelay.http.ProblemException;

/** Delivery ids an admin gives: as the delivery log shows them ({@code 17}) or as webhook receivers see them ({@code dlv_17}). */
final class DeliveryIds {
  private DeliveryIds() {
  }

  /** {@code raw} as a delivery id; {@code where} names it in the 400 ({@code "query parameter 'cursor'"}). */
  static long parse(String where, String raw) {
    String digits = raw.startsWith("dlv_") ? raw.substring(4) : raw;
    try {
      long id = Long.parseLong(digits);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ProblemException.badRequest(where + " must be a delivery id as the delivery log shows it (17)"
        + " or as webhook receivers see it (dlv_17); got '" + raw + "'");
  }
}
