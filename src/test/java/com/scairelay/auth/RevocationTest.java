package com.scairelay.auth;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Revocation of issued access tokens (DESIGN.md "Applications and tokens"): deleting an application
 * refuses its tokens, reducing its scopes narrows them, on this node at once and on every other node
 * within {@code auth.revocation_check_seconds}; rotating its secret leaves them alone.
 */
class RevocationTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static JsonObject application(TestNode on, List<String> scopes) {
    HttpResponse<Buffer> created = on.send(on.admin(HttpMethod.POST, "/v1/admin/applications"),
        new JsonObject().put("name", "revocable").put("scopes", new JsonArray(scopes)).put("token_lifetime", 3600));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  static HttpResponse<Buffer> tokenRequest(TestNode on, JsonObject app, Map<String, String> params) {
    StringBuilder form = new StringBuilder();
    params.forEach((k, v) -> form.append(form.length() == 0 ? "" : "&").append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    String basic = app.getString("client_id") + ":" + app.getString("client_secret");
    HttpRequest<Buffer> request = on.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
    return request.sendBuffer(Buffer.buffer(form.toString())).await();
  }

  static String token(TestNode on, JsonObject app) {
    HttpResponse<Buffer> response = tokenRequest(on, app, Map.of("grant_type", "client_credentials"));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  static String exchanged(JsonObject actor, String subjectToken) {
    HttpResponse<Buffer> response = tokenRequest(node, actor, Map.of("grant_type", TokenRoutes.TOKEN_EXCHANGE, "subject_token", subjectToken));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  static int status(TestNode on, String token, HttpMethod method, String path, JsonObject body) {
    return on.send(on.request(method, path).putHeader("Authorization", "Bearer " + token), body).statusCode();
  }

  /** 200 with {@code rooms:read}; 404 would mean the same, so read a room that exists. */
  static int readRoom(TestNode on, String token, String roomId) {
    return status(on, token, HttpMethod.GET, "/v1/rooms/" + roomId, null);
  }

  static int createRoom(TestNode on, String token) {
    return status(on, token, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "by token"));
  }

  static void patchScopes(TestNode on, JsonObject app, List<String> scopes) {
    HttpResponse<Buffer> patched = on.send(on.admin(HttpMethod.PATCH, "/v1/admin/applications/" + app.getString("client_id")),
        new JsonObject().put("scopes", new JsonArray(scopes)));
    assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
  }

  static void delete(TestNode on, JsonObject app) {
    assertThat(on.send(on.admin(HttpMethod.DELETE, "/v1/admin/applications/" + app.getString("client_id")), null).statusCode()).isEqualTo(204);
  }

  @Test
  void aDeletedApplicationsTokenIsRefusedOnItsNextUse() {
    String roomId = node.createRoom("revocation a").getString("room_id");
    JsonObject app = application(node, List.of("rooms:read"));
    String token = token(node, app);
    assertThat(readRoom(node, token, roomId)).isEqualTo(200);

    delete(node, app);

    HttpResponse<Buffer> refused = node.send(node.request(HttpMethod.GET, "/v1/rooms/" + roomId).putHeader("Authorization", "Bearer " + token), null);
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.bodyAsJsonObject().getString("detail")).contains("revoked");
    assertThat(refused.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
  }

  @Test
  void reducedScopesNarrowIssuedTokensAtOnceAndWideningDoesNotGoBeyondTheToken() {
    String roomId = node.createRoom("revocation b").getString("room_id");
    JsonObject app = application(node, List.of("rooms:read", "rooms:write"));
    String token = token(node, app);
    assertThat(createRoom(node, token)).isEqualTo(201);
    assertThat(readRoom(node, token, roomId)).isEqualTo(200);

    patchScopes(node, app, List.of("rooms:read"));

    HttpResponse<Buffer> forbidden = node.send(node.request(HttpMethod.POST, "/v1/rooms").putHeader("Authorization", "Bearer " + token),
        new JsonObject().put("name", "no longer"));
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.bodyAsJsonObject().getString("detail")).contains("'rooms:write'");
    assertThat(readRoom(node, token, roomId)).as("a kept scope still works").isEqualTo(200);

    patchScopes(node, app, List.of("rooms:read", "rooms:write", "admin:write"));
    assertThat(createRoom(node, token)).as("a scope given back works again").isEqualTo(201);
    assertThat(status(node, token, HttpMethod.GET, "/v1/admin/applications", null))
        .as("a token never gets more than it was issued with").isEqualTo(403);
  }

  @Test
  void rotatingTheSecretDoesNotRevokeTokens() {
    String roomId = node.createRoom("revocation d").getString("room_id");
    JsonObject app = application(node, List.of("rooms:read"));
    String token = token(node, app);
    assertThat(readRoom(node, token, roomId)).isEqualTo(200);

    HttpResponse<Buffer> rotated = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications/" + app.getString("client_id") + "/rotate-secret"), null);
    assertThat(rotated.statusCode()).isEqualTo(200);

    assertThat(readRoom(node, token, roomId)).isEqualTo(200);
    node.clock.advance(Duration.ofMinutes(1));
    assertThat(readRoom(node, token, roomId)).as("after the cached state has been read again").isEqualTo(200);
  }

  @Test
  void anExchangedTokenIsBoundByTheSubjectsApplicationAndTheActingOne() {
    String roomId = node.createRoom("revocation exchange").getString("room_id");
    JsonObject subject = application(node, List.of("rooms:read", "rooms:write"));
    JsonObject actor = application(node, List.of("rooms:read", "rooms:write"));
    String subjectToken = token(node, subject);
    String acting = exchanged(actor, subjectToken);
    assertThat(createRoom(node, acting)).isEqualTo(201);

    patchScopes(node, subject, List.of("rooms:read"));
    assertThat(createRoom(node, acting)).as("the subject lost rooms:write").isEqualTo(403);
    assertThat(readRoom(node, acting, roomId)).isEqualTo(200);

    delete(node, subject);
    assertThat(readRoom(node, acting, roomId)).as("the subject's application is gone").isEqualTo(401);
    HttpResponse<Buffer> again = tokenRequest(node, actor, Map.of("grant_type", TokenRoutes.TOKEN_EXCHANGE, "subject_token", subjectToken));
    assertThat(again.statusCode()).isEqualTo(400);
    assertThat(again.bodyAsJsonObject().getString("error")).as("a revoked token cannot be exchanged").isEqualTo("invalid_grant");

    JsonObject other = application(node, List.of("rooms:read"));
    String actingForOther = exchanged(actor, token(node, other));
    assertThat(readRoom(node, actingForOther, roomId)).isEqualTo(200);
    delete(node, actor);
    assertThat(readRoom(node, actingForOther, roomId)).as("the acting application is gone").isEqualTo(401);
  }

  @Test
  void aNodeReadsAnApplicationsStandingAtMostOncePerCheckInterval() {
    JsonObject app = application(node, List.of("rooms:read", "rooms:write"));
    String token = token(node, app);
    assertThat(createRoom(node, token)).isEqualTo(201);

    // Behind the node's back (no invalidation): only the interval (default 5 s) makes it read again.
    node.sql("UPDATE applications SET scopes = '{rooms:read}' WHERE client_id = $1", app.getString("client_id"));
    node.clock.advance(Duration.ofMillis(4_900));
    assertThat(createRoom(node, token)).as("the cached standing, younger than the interval").isEqualTo(201);
    node.clock.advance(Duration.ofMillis(100));
    assertThat(createRoom(node, token)).isEqualTo(403);

    node.sql("UPDATE applications SET scopes = '{rooms:read,rooms:write}' WHERE client_id = $1", app.getString("client_id"));
    node.clock.advance(Duration.ofSeconds(-1));
    assertThat(createRoom(node, token)).as("a clock that went back counts as expired").isEqualTo(201);
  }

  @Test
  void revocationReachesAnotherNodeOnTheSameDatabaseWithinTheCheckInterval() {
    // Two Vert.x instances that are not clustered: the invalidation message does not cross, the
    // interval bounds how long the other node may keep what it cached.
    try (TestNode other = TestNode.startOn(node.pg, Map.of("RELAY_AUTH_REVOCATION_CHECK_SECONDS", "5"))) {
      String roomId = node.createRoom("revocation c").getString("room_id");
      JsonObject app = application(node, List.of("rooms:read", "rooms:write"));
      String token = token(node, app);
      assertThat(createRoom(other, token)).isEqualTo(201);
      assertThat(readRoom(other, token, roomId)).isEqualTo(200);

      patchScopes(node, app, List.of("rooms:read"));
      other.clock.advance(Duration.ofSeconds(5));
      assertThat(createRoom(other, token)).isEqualTo(403);
      assertThat(readRoom(other, token, roomId)).isEqualTo(200);

      delete(node, app);
      other.clock.advance(Duration.ofSeconds(5));
      assertThat(readRoom(other, token, roomId)).isEqualTo(401);
    }
  }
}
