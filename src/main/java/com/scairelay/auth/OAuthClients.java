package com.scairelay.auth;

import com.scairelay.http.Scopes;
import io.vertx.core.Future;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The clients of the authorization-code flow: the registered applications, and the built-in public
 * client {@code console} (the admin console the node serves at {@code /}). {@code console} has no row
 * and no secret (PKCE is its proof), may ask for every scope, and may redirect only to the origin the
 * person's browser asked for, {@code http(s)://<Host>/}. Application client ids are generated
 * ({@code app_…}), so no application can ever be named {@code console}.
 */
public final class OAuthClients {
  static final String CONSOLE = "console";
  private static final int CONSOLE_LIFETIME_SECONDS = 3600;

  private final ApplicationStore applications;
  private final Application console;

  private OAuthClients(ApplicationStore applications, Application console) {
    this.applications = applications;
    this.console = console;
  }

  /** The console's tokens live an hour, or {@code auth.max_token_lifetime_seconds} when that is shorter. */
  public static OAuthClients of(ApplicationStore applications, Duration maxTokenLifetime) {
    int lifetime = (int) Math.min(CONSOLE_LIFETIME_SECONDS, maxTokenLifetime.toSeconds());
    return new OAuthClients(applications, new Application(CONSOLE, "ScaiRelay console", "the admin console of this relay", List.of(),
        Scopes.ALL.stream().sorted().toList(), lifetime, null, Instant.EPOCH, Instant.EPOCH));
  }

  Application console() {
    return console;
  }

  static boolean isConsole(String clientId) {
    return CONSOLE.equals(clientId);
  }

  Future<Optional<Application>> find(String clientId) {
    return isConsole(clientId) ? Future.succeededFuture(Optional.of(console)) : applications.find(clientId);
  }

  /** Exactly one of the application's redirect URIs; for {@code console}, its own origin as the request's {@code Host} names it. */
  boolean redirectAllowed(Application client, String redirectUri, String host) {
    if (isConsole(client.clientId())) {
      return host != null && !host.isBlank() && (redirectUri.equals("http://" + host + "/") || redirectUri.equals("https://" + host + "/"));
    }
    return client.redirectUris().contains(redirectUri);
  }
}
