package com.scairelay.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/** An OAuth 2 client: what it may ask for, and how long its tokens live. Never carries its secret. */
record Application(String clientId, String name, String description, List<String> redirectUris, List<String> scopes,
                          int tokenLifetime, Instant previousSecretExpiresAt, Instant createdAt, Instant updatedAt) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("client_id", clientId).put("name", name).put("description", description)
        .put("redirect_uris", new JsonArray(redirectUris)).put("scopes", new JsonArray(scopes))
        .put("token_lifetime", tokenLifetime).put("created_at", createdAt.toString()).put("updated_at", updatedAt.toString());
    if (previousSecretExpiresAt != null) {
      json.put("previous_secret_expires_at", previousSecretExpiresAt.toString());
    }
    return json;
  }
}
