package com.scairelay.auth;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Applications, the token endpoint, JWT verification, API keys and scopes on every route family. */
class AuthTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static JsonObject application(List<String> scopes) {
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"), new JsonObject()
        .put("name", "crm").put("description", "the CRM").put("redirect_uris", new JsonArray().add("https://crm.example.org/cb"))
        .put("scopes", new JsonArray(scopes)).put("token_lifetime", 600));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  static HttpResponse<Buffer> tokenRequest(String clientId, String secret, boolean basic, Map<String, String> params) {
    HttpRequest<Buffer> request = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded");
    StringBuilder form = new StringBuilder();
    params.forEach((k, v) -> form.append(form.length() == 0 ? "" : "&").append(k).append('=').append(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8)));
    if (basic) {
      request.putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)));
    } else {
      form.append("&client_id=").append(clientId).append("&client_secret=").append(secret);
    }
    return request.sendBuffer(Buffer.buffer(form.toString())).await();
  }

  static String token(JsonObject app, String scope) {
    Map<String, String> params = scope == null ? Map.of("grant_type", "client_credentials") : Map.of("grant_type", "client_credentials", "scope", scope);
    HttpResponse<Buffer> response = tokenRequest(app.getString("client_id"), app.getString("client_secret"), true, params);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  static HttpResponse<Buffer> call(String token, HttpMethod method, String path, JsonObject body) {
    return node.send(node.request(method, path).putHeader("Authorization", "Bearer " + token), body);
  }

  static JsonObject claims(String jwt) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  @Test
  void anApplicationsSecretIsShownOnceAndStoredHashed() {
    JsonObject app = application(List.of("bridges:read"));
    assertThat(app.getString("client_secret")).startsWith("cs_");
    String one = node.send(node.admin(HttpMethod.GET, "/v1/admin/applications/" + app.getString("client_id")), null).bodyAsString();
    assertThat(one).contains(app.getString("client_id")).doesNotContain(app.getString("client_secret"));
    Object stored = node.queryValue("SELECT encode(secret_hash, 'hex') FROM applications WHERE client_id = $1", app.getString("client_id"));
    assertThat(stored.toString()).hasSize(64).doesNotContain(app.getString("client_secret"));
    HttpResponse<Buffer> bad = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"),
        new JsonObject().put("name", "x").put("scopes", new JsonArray().add("everything")));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.bodyAsJsonObject().getString("detail")).contains("'scopes'");
  }

  @Test
  void clientCredentialsGivesABearerTokenForTheApplicationsScopes() {
    JsonObject app = application(List.of("bridges:read", "rooms:read"));
    HttpResponse<Buffer> basic = tokenRequest(app.getString("client_id"), app.getString("client_secret"), true, Map.of("grant_type", "client_credentials"));
    HttpResponse<Buffer> body = tokenRequest(app.getString("client_id"), app.getString("client_secret"), false, Map.of("grant_type", "client_credentials"));

    for (HttpResponse<Buffer> response : List.of(basic, body)) {
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.getHeader("Cache-Control")).isEqualTo("no-store");
      JsonObject answer = response.bodyAsJsonObject();
      assertThat(answer.getString("token_type")).isEqualTo("Bearer");
      assertThat(answer.getInteger("expires_in")).isEqualTo(600);
      assertThat(answer.getString("scope").split(" ")).containsExactlyInAnyOrder("bridges:read", "rooms:read");
    }
    String token = basic.bodyAsJsonObject().getString("access_token");
    assertThat(call(token, HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> forbidden = call(token, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "x"));
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.bodyAsJsonObject().getString("detail")).contains("'rooms:write'");
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE action = 'oauth.token_issued' AND resource_id = $1",
        app.getString("client_id"))).isEqualTo(2L);
  }

  @Test
  void patchChangesScopesAndLifetimeAndDeleteStopsTheClient() {
    JsonObject app = application(List.of("rooms:read"));
    String id = app.getString("client_id");
    HttpResponse<Buffer> patched = node.send(node.admin(HttpMethod.PATCH, "/v1/admin/applications/" + id),
        new JsonObject().put("scopes", new JsonArray().add("audit:read")).put("token_lifetime", 120));
    assertThat(patched.statusCode()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject().getJsonArray("scopes")).containsExactly("audit:read");
    HttpResponse<Buffer> issued = tokenRequest(id, app.getString("client_secret"), true, Map.of("grant_type", "client_credentials"));
    assertThat(issued.bodyAsJsonObject().getString("scope")).isEqualTo("audit:read");
    assertThat(issued.bodyAsJsonObject().getInteger("expires_in")).isEqualTo(120);

    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/applications/" + id), null).statusCode()).isEqualTo(204);
    assertThat(tokenRequest(id, app.getString("client_secret"), true, Map.of("grant_type", "client_credentials")).statusCode()).isEqualTo(401);
    assertThat(node.send(node.admin(HttpMethod.GET, "/v1/admin/applications/" + id), null).statusCode()).isEqualTo(404);
    List<String> actions = new java.util.ArrayList<>();
    node.sql("SELECT action FROM audit_events WHERE resource_id = $1 AND category = 'ADMIN' ORDER BY seq", id).forEach(r -> actions.add(r.getString(0)));
    assertThat(actions).containsExactly("application.created", "application.updated", "application.deleted");
  }

  @Test
  void redirectUrisAreAbsoluteWithoutAFragmentAndPatchReplacesThem() {
    JsonObject app = application(List.of("rooms:read"));
    String id = app.getString("client_id");
    HttpResponse<Buffer> patched = node.send(node.admin(HttpMethod.PATCH, "/v1/admin/applications/" + id), new JsonObject()
        .put("redirect_uris", new JsonArray().add("https://crm.example.org/new?tenant=a,b").add("com.example.app:/oauth")));
    assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject().getJsonArray("redirect_uris")).containsExactly("https://crm.example.org/new?tenant=a,b", "com.example.app:/oauth");
    assertThat(patched.bodyAsJsonObject().getJsonArray("scopes")).as("fields not named stay").containsExactly("rooms:read");

    Map<String, String> refused = Map.of("/relative/cb", "is not absolute", "https://crm.example.org/cb#frag", "has a fragment",
        "https://crm example.org/cb", "is not a URI");
    refused.forEach((uri, why) -> {
      for (HttpResponse<Buffer> answer : List.of(
          node.send(node.admin(HttpMethod.PATCH, "/v1/admin/applications/" + id), new JsonObject().put("redirect_uris", new JsonArray().add(uri))),
          node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"), new JsonObject().put("name", "x")
              .put("scopes", new JsonArray().add("rooms:read")).put("redirect_uris", new JsonArray().add(uri))))) {
        assertThat(answer.statusCode()).as(uri).isEqualTo(400);
        assertThat(answer.bodyAsJsonObject().getString("detail")).as(uri).contains("field 'redirect_uris'", why);
      }
    });
    assertThat(node.send(node.admin(HttpMethod.GET, "/v1/admin/applications/" + id), null).bodyAsJsonObject().getJsonArray("redirect_uris"))
        .as("a refused PATCH changes nothing").hasSize(2);
  }

  @Test
  void aRequestedScopeMustBeASubset() {
    JsonObject app = application(List.of("bridges:read", "rooms:read"));
    assertThat(claims(token(app, "rooms:read")).getString("scope")).isEqualTo("rooms:read");
    HttpResponse<Buffer> wider = tokenRequest(app.getString("client_id"), app.getString("client_secret"), true,
        Map.of("grant_type", "client_credentials", "scope", "rooms:read admin:write"));
    assertThat(wider.statusCode()).isEqualTo(400);
    assertThat(wider.bodyAsJsonObject().getString("error")).isEqualTo("invalid_scope");
  }

  @Test
  void badClientsAndGrantsGetRfc6749Errors() {
    JsonObject app = application(List.of("rooms:read"));
    HttpResponse<Buffer> wrong = tokenRequest(app.getString("client_id"), "cs_wrong", true, Map.of("grant_type", "client_credentials"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");
    assertThat(node.queryValue("SELECT category FROM audit_events WHERE action = 'oauth.client_authentication_failed' AND resource_id = $1",
        app.getString("client_id"))).isEqualTo("AUTHENTICATION");
    HttpResponse<Buffer> none = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer("grant_type=client_credentials")).await();
    assertThat(none.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");
    HttpResponse<Buffer> password = tokenRequest(app.getString("client_id"), app.getString("client_secret"), true, Map.of("grant_type", "password"));
    assertThat(password.statusCode()).isEqualTo(400);
    assertThat(password.bodyAsJsonObject().getString("error")).isEqualTo("unsupported_grant_type");
  }

  @Test
  void tokenExchangeActsForTheSubjectAndAuditNamesTheServiceAccount() {
    JsonObject user = application(List.of("bridges:write", "rooms:write", "rooms:read"));
    JsonObject service = application(List.of("bridges:write", "rooms:write"));
    String subjectToken = token(user, null);

    HttpResponse<Buffer> exchanged = tokenRequest(service.getString("client_id"), service.getString("client_secret"), true, Map.of(
        "grant_type", TokenRoutes.TOKEN_EXCHANGE, "subject_token", subjectToken, "subject_token_type", TokenRoutes.ACCESS_TOKEN_TYPE));

    assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
    assertThat(exchanged.bodyAsJsonObject().getString("issued_token_type")).isEqualTo(TokenRoutes.ACCESS_TOKEN_TYPE);
    String token = exchanged.bodyAsJsonObject().getString("access_token");
    JsonObject claims = claims(token);
    assertThat(claims.getString("sub")).isEqualTo(user.getString("client_id"));
    assertThat(claims.getJsonObject("act").getString("sub")).isEqualTo(service.getString("client_id"));
    assertThat(claims.getString("scope").split(" ")).containsExactlyInAnyOrder("bridges:write", "rooms:write");

    String roomId = call(token, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "acted")).bodyAsJsonObject().getString("room_id");
    String bridgeId = call(token, HttpMethod.POST, "/v1/admin/bridges", new JsonObject().put("transport", "custom")
        .put("direction", "inbound").put("room_id", roomId).put("name", "b")).bodyAsJsonObject().getString("bridge_id");
    assertThat(node.queryValue("SELECT user_id || '/' || service_account FROM audit_events WHERE action = 'bridge.created' AND resource_id = $1", bridgeId))
        .isEqualTo(user.getString("client_id") + "/" + service.getString("client_id"));

    HttpResponse<Buffer> invalid = tokenRequest(service.getString("client_id"), service.getString("client_secret"), true,
        Map.of("grant_type", TokenRoutes.TOKEN_EXCHANGE, "subject_token", "not.a.token"));
    assertThat(invalid.bodyAsJsonObject().getString("error")).isEqualTo("invalid_grant");
  }

  @Test
  void aRotatedSecretKeepsWorkingFor24HoursThenStops() {
    JsonObject app = application(List.of("rooms:read"));
    JsonObject rotated = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications/" + app.getString("client_id") + "/rotate-secret"), null)
        .bodyAsJsonObject();
    String id = app.getString("client_id");

    node.clock.advance(Duration.ofHours(23).plusMinutes(59));
    assertThat(tokenRequest(id, app.getString("client_secret"), true, Map.of("grant_type", "client_credentials")).statusCode()).isEqualTo(200);
    node.clock.advance(Duration.ofMinutes(2));
    assertThat(tokenRequest(id, app.getString("client_secret"), true, Map.of("grant_type", "client_credentials")).statusCode()).isEqualTo(401);
    assertThat(tokenRequest(id, rotated.getString("client_secret"), true, Map.of("grant_type", "client_credentials")).statusCode()).isEqualTo(200);
    node.clock.advance(Duration.ofHours(-24).minusMinutes(1));
  }

  @Test
  void expiredTamperedAndForeignTokensAreRefused() {
    JsonObject app = application(List.of("rooms:read"));
    node.clock.advance(Duration.ofHours(-2));
    String expired = token(app, null);
    node.clock.advance(Duration.ofHours(2));
    assertThat(call(expired, HttpMethod.GET, "/v1/rooms/room_x", null).statusCode()).isEqualTo(401);

    String good = token(app, null);
    String[] parts = good.split("\\.");
    String tamperedPayload = Base64.getUrlEncoder().withoutPadding().encodeToString(
        claims(good).put("scope", "admin:write").encode().getBytes(StandardCharsets.UTF_8));
    assertThat(call(parts[0] + "." + tamperedPayload + "." + parts[2], HttpMethod.GET, "/v1/admin/applications", null).statusCode()).isEqualTo(401);

    JsonObject foreignKey = TokenService.newKey();
    String foreign = JWTAuth.create(node.vertx, new JWTAuthOptions().addJwk(foreignKey)).generateToken(
        claims(good), new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true).setHeader(new JsonObject().put("kid", foreignKey.getString("kid"))));
    assertThat(call(foreign, HttpMethod.GET, "/v1/rooms/room_x", null).statusCode()).isEqualTo(401);
    assertThat(call(good, HttpMethod.GET, "/v1/rooms/room_x", null).statusCode()).as("a valid token reaches the route").isEqualTo(404);
  }

  @Test
  void jwksPublishesPublicKeysAndOldKeysVerifyAfterRotation() {
    JsonObject app = application(List.of("rooms:read"));
    String before = token(app, null);
    JsonObject jwks = node.send(node.request(HttpMethod.GET, "/.well-known/jwks.json"), null).bodyAsJsonObject();
    assertThat(jwks.getJsonArray("keys")).isNotEmpty();
    jwks.getJsonArray("keys").stream().map(JsonObject.class::cast).forEach(k -> {
      assertThat(k.containsKey("d")).isFalse();
      assertThat(k.getString("kty")).isEqualTo("EC");
    });

    String kid = node.send(node.admin(HttpMethod.POST, "/v1/admin/signing-keys/rotate"), null).bodyAsJsonObject().getString("kid");
    String after = token(app, null);

    assertThat(new JsonObject(new String(Base64.getUrlDecoder().decode(after.split("\\.")[0]), StandardCharsets.UTF_8)).getString("kid")).isEqualTo(kid);
    assertThat(call(before, HttpMethod.GET, "/v1/rooms/room_x", null).statusCode()).isEqualTo(404);
    assertThat(call(after, HttpMethod.GET, "/v1/rooms/room_x", null).statusCode()).isEqualTo(404);
    assertThat(node.send(node.request(HttpMethod.GET, "/.well-known/jwks.json"), null).bodyAsJsonObject().getJsonArray("keys").size())
        .isGreaterThan(jwks.getJsonArray("keys").size());
  }

  @Test
  void apiKeysWorkForTheirScopesUntilRevokedAndEveryRouteFamilyChecksItsScope() {
    JsonObject created = node.send(node.admin(HttpMethod.POST, "/v1/admin/api-keys"),
        new JsonObject().put("name", "script").put("scopes", new JsonArray().add("rooms:read"))).bodyAsJsonObject();
    String key = created.getString("api_key");
    assertThat(key).startsWith("sak_");
    String roomId = node.createRoom("keyed").getString("room_id");

    assertThat(call(key, HttpMethod.GET, "/v1/rooms/" + roomId, null).statusCode()).isEqualTo(200);
    Map<String, HttpResponse<Buffer>> forbidden = Map.of(
        "bridges:read", call(key, HttpMethod.GET, "/v1/admin/bridges", null),
        "webhooks:read", call(key, HttpMethod.GET, "/v1/admin/webhooks", null),
        "rooms:write", call(key, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "x")),
        "events:publish", call(key, HttpMethod.POST, "/v1/events", new JsonObject().put("category", "ADMIN").put("action", "x")),
        "audit:read", call(key, HttpMethod.GET, "/v1/admin/audit", null),
        "admin:read", call(key, HttpMethod.GET, "/v1/admin/applications", null),
        "admin:write", call(key, HttpMethod.POST, "/v1/admin/api-keys", new JsonObject().put("name", "y").put("scopes", new JsonArray().add("rooms:read"))));
    forbidden.forEach((scope, response) -> {
      assertThat(response.statusCode()).as(scope).isEqualTo(403);
      assertThat(response.bodyAsJsonObject().getString("detail")).contains("'" + scope + "'");
    });

    WebSocket socket = node.vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port())
        .setURI("/v1/rooms/" + roomId + "/stream").addHeader("Authorization", "Bearer " + key)).await();
    socket.close().await();

    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/api-keys/" + created.getString("key_id")), null).statusCode()).isEqualTo(204);
    assertThat(call(key, HttpMethod.GET, "/v1/rooms/" + roomId, null).statusCode()).isEqualTo(401);
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE resource_id = $1 AND action IN ('api_key.created', 'api_key.revoked')",
        created.getString("key_id"))).isEqualTo(2L);
  }
}
