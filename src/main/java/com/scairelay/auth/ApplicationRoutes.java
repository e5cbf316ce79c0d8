package com.scairelay.auth;

import com.scairelay.http.Routes;
import java.time.Clock;
import com.scairelay.config.RelayConfig;
import com.scairelay.audit.AuditLog;
import com.scairelay.http.Guard;
import com.scairelay.http.Scopes;
import com.scairelay.http.Caller;
import com.scairelay.audit.AuditEvent;
import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static com.scairelay.http.Responses.json;

/** Applications (OAuth 2 clients) and personal API keys: {@code admin:read} to look, {@code admin:write} to change. */
public record ApplicationRoutes(Guard guard, ApplicationStore applications, ApiKeyStore apiKeys, TokenRevocation revocation,
                                AuditLog audit, RelayConfig config, Clock clock) implements Routes {
  static final int DEFAULT_LIFETIME = 3600;


  @Override
  public void mount(Router router) {
    router.post("/v1/admin/applications").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::create);
    router.get("/v1/admin/applications").handler(guard.require(Scopes.ADMIN_READ)).handler(this::list);
    router.get("/v1/admin/applications/:id").handler(guard.require(Scopes.ADMIN_READ)).handler(this::get);
    router.patch("/v1/admin/applications/:id").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::patch);
    router.delete("/v1/admin/applications/:id").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::delete);
    router.post("/v1/admin/applications/:id/rotate-secret").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::rotate);
    router.post("/v1/admin/api-keys").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::createKey);
    router.get("/v1/admin/api-keys").handler(guard.require(Scopes.ADMIN_READ)).handler(ctx ->
        apiKeys.list().onSuccess(keys -> json(ctx, 200, new JsonObject().put("api_keys", keys))).onFailure(ctx::fail));
    router.delete("/v1/admin/api-keys/:id").handler(guard.require(Scopes.ADMIN_WRITE)).handler(this::revokeKey);
  }

  static String newSecret(String prefix) {
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
  }

  private void create(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    String name = JsonBody.requiredString(body, "name", 200);
    String description = JsonBody.optionalString(body, "description", 2000);
    List<String> redirects = redirectUris(body);
    List<String> scopes = scopes(body, true);
    int lifetime = JsonBody.optionalInt(body, "token_lifetime", DEFAULT_LIFETIME, 60, maxLifetime());
    Instant now = clock.instant();
    Application app = new Application(Ids.newId("app"), name, description == null ? "" : description, redirects, scopes, lifetime, null, now, now);
    String secret = newSecret("cs_");
    applications.insert(app, secret, adminEvent(ctx, "application.created", app.clientId(),
            new JsonObject().put("name", name).put("scopes", new JsonArray(scopes))))
        .onSuccess(v -> json(ctx, 201, app.toJson().put("client_secret", secret)))
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    applications.list().onSuccess(apps -> {
      JsonArray out = new JsonArray();
      apps.forEach(a -> out.add(a.toJson()));
      json(ctx, 200, new JsonObject().put("applications", out));
    }).onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    found(ctx.pathParam("id")).onSuccess(a -> json(ctx, 200, a.toJson())).onFailure(ctx::fail);
  }

  private void patch(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JsonObject body = JsonBody.of(ctx);
    List<String> scopes = body.containsKey("scopes") ? scopes(body, true) : null;
    Integer lifetime = body.containsKey("token_lifetime") ? JsonBody.optionalInt(body, "token_lifetime", DEFAULT_LIFETIME, 60, maxLifetime()) : null;
    String description = JsonBody.optionalString(body, "description", 2000);
    List<String> redirects = body.containsKey("redirect_uris") ? redirectUris(body) : null;
    AuditEvent event = adminEvent(ctx, "application.updated", id, new JsonObject().put("fields", new JsonArray(body.fieldNames().stream().sorted().toList())));
    applications.update(id, scopes, lifetime, description, redirects, event.timestamp(), event)
        .compose(changed -> changedOr404(id, changed))
        .onSuccess(v -> revocation.changed(id))
        .compose(v -> found(id))
        .onSuccess(a -> json(ctx, 200, a.toJson()))
        .onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, "application.deleted", id, new JsonObject());
    applications.delete(id, event.timestamp(), event)
        .compose(changed -> changedOr404(id, changed))
        .onSuccess(v -> revocation.changed(id))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  /**
   * A new secret, shown once; the old one keeps working for {@code auth.client_secret_grace_seconds} (24 h).
   * Tokens already issued keep working: a rotation replaces a credential, it takes nothing away.
   */
  private void rotate(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String secret = newSecret("cs_");
    AuditEvent event = adminEvent(ctx, "application.secret_rotated", id, new JsonObject());
    Instant previousExpires = event.timestamp().plus(config.clientSecretGrace());
    applications.rotate(id, secret, previousExpires, event.timestamp(), event)
        .compose(changed -> changedOr404(id, changed))
        .onSuccess(v -> json(ctx, 200, new JsonObject().put("client_id", id).put("client_secret", secret)
            .put("previous_secret_expires_at", previousExpires.toString())))
        .onFailure(ctx::fail);
  }

  private void createKey(RoutingContext ctx) {
    JsonObject body = JsonBody.of(ctx);
    String name = JsonBody.requiredString(body, "name", 200);
    List<String> scopes = scopes(body, true);
    String id = Ids.newId("key");
    String key = newSecret(AccessGuard.API_KEY_PREFIX);
    Instant now = clock.instant();
    String by = Caller.of(ctx).userId();
    apiKeys.insert(id, name, scopes, key, by, now, adminEvent(ctx, "api_key.created", id,
            new JsonObject().put("name", name).put("scopes", new JsonArray(scopes))))
        .onSuccess(v -> json(ctx, 201, new JsonObject().put("key_id", id).put("name", name).put("scopes", new JsonArray(scopes)).put("api_key", key)))
        .onFailure(ctx::fail);
  }

  private void revokeKey(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    AuditEvent event = adminEvent(ctx, "api_key.revoked", id, new JsonObject());
    apiKeys.revoke(id, event.timestamp(), event)
        .compose(changed -> changed ? Future.succeededFuture() : Future.failedFuture(ProblemException.notFound("no API key " + id)))
        // Tokens a person got by signing in with the key go with it.
        .onSuccess(v -> revocation.changed(ApiKeyStore.SUBJECT_PREFIX + id))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  private int maxLifetime() {
    return (int) config.maxTokenLifetime().toSeconds();
  }

  private static List<String> scopes(JsonObject body, boolean required) {
    List<String> scopes = strings(body, "scopes", required);
    for (String scope : scopes) {
      if (!Scopes.ALL.contains(scope)) {
        throw ProblemException.badRequest("field 'scopes' has '" + scope + "', which is not one of " + Scopes.ALL.stream().sorted().toList());
      }
    }
    return scopes;
  }

  /**
   * The redirect URIs of the authorization-code flow: absolute (with a scheme: https, http, or a native
   * app's own), without a fragment (RFC 6749 §3.1.2), at most 2000 characters each; compared exactly.
   */
  private static List<String> redirectUris(JsonObject body) {
    List<String> uris = strings(body, "redirect_uris", false);
    for (String uri : uris) {
      String problem = redirectUriProblem(uri);
      if (problem != null) {
        throw ProblemException.badRequest("field 'redirect_uris' has '" + (uri.length() > 100 ? uri.substring(0, 100) + "…" : uri)
            + "', which " + problem);
      }
    }
    return uris;
  }

  private static String redirectUriProblem(String uri) {
    if (uri.length() > 2000) {
      return "is longer than 2000 characters";
    }
    try {
      URI parsed = new URI(uri);
      if (!parsed.isAbsolute()) {
        return "is not absolute: it needs a scheme, like https://app.example.com/callback";
      }
      if (parsed.getRawFragment() != null) {
        return "has a fragment (#…), which a redirect URI may not have";
      }
      return null;
    } catch (URISyntaxException e) {
      return "is not a URI: " + e.getReason();
    }
  }

  private static List<String> strings(JsonObject body, String field, boolean required) {
    Object value = body.getValue(field);
    if (value == null && !required) {
      return List.of();
    }
    if (!(value instanceof JsonArray array) || (required && array.isEmpty()) || array.stream().anyMatch(v -> !(v instanceof String))) {
      throw ProblemException.badRequest("field '" + field + "' must be " + (required ? "a non-empty" : "an") + " array of strings");
    }
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add((String) v));
    return out;
  }

  private static Future<Void> changedOr404(String id, boolean changed) {
    return changed ? Future.succeededFuture() : Future.failedFuture(ProblemException.notFound("no application " + id));
  }

  private Future<Application> found(String id) {
    return applications.find(id).map(found -> found.orElseThrow(() -> ProblemException.notFound("no application " + id)));
  }

  private AuditEvent adminEvent(RoutingContext ctx, String action, String resourceId, JsonObject payload) {
    return audit.adminEvent(Caller.of(ctx), action, resourceId, payload);
  }
}
