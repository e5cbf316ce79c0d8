package com.scairelay.auth;

import com.scairelay.http.Scopes;
import com.scairelay.http.Caller;

import java.util.Set;

/** Who made a request, and what it may do. Recorded as {@code user_id} in audit events. */
record Principal(String userId, Set<String> scopes, String serviceAccount) {
  public boolean has(String scope) {
    return scopes.contains(scope) || scopes.contains(Scopes.ADMIN_WRITE);
  }

  public Caller caller() {
    return new Caller(userId, serviceAccount);
  }
}
