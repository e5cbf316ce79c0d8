package com.scairelay.http;

import java.util.Set;

/** The scopes named in DESIGN.md §3. {@code admin:write} implies every other. */
public final class Scopes {
  public static final String BRIDGES_READ = "bridges:read";
  public static final String BRIDGES_WRITE = "bridges:write";
  public static final String ROOMS_READ = "rooms:read";
  public static final String ROOMS_WRITE = "rooms:write";
  public static final String WEBHOOKS_READ = "webhooks:read";
  public static final String WEBHOOKS_WRITE = "webhooks:write";
  public static final String EVENTS_PUBLISH = "events:publish";
  public static final String AUDIT_READ = "audit:read";
  public static final String ADMIN_READ = "admin:read";
  public static final String ADMIN_WRITE = "admin:write";

  public static final Set<String> ALL = Set.of(
      BRIDGES_READ, BRIDGES_WRITE, ROOMS_READ, ROOMS_WRITE, WEBHOOKS_READ, WEBHOOKS_WRITE, EVENTS_PUBLISH, AUDIT_READ, ADMIN_READ, ADMIN_WRITE);

  private Scopes() {
  }
}
