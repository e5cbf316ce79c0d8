package com.scairelay.auth;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The authorization-code flow with PKCE: the consent page, its errors, the code grant, and the console client. */
class AuthorizationCodeTest {
  static TestNode node;
  static TestSink receiver;
  static ConsentBrowser browser;
  static String callback;

  @BeforeAll
  static void start() {
    node = TestNode.start();
    receiver = TestSink.start(node.vertx);
    browser = new ConsentBrowser(node);
    callback = receiver.url("/callback");
  }

  @AfterAll
  static void stop() {
    receiver.close();
    node.close();
  }

  static JsonObject application(String name, List<String> scopes, String... redirectUris) {
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"), new JsonObject()
        .put("name", name).put("redirect_uris", new JsonArray(List.of(redirectUris))).put("scopes", new JsonArray(scopes))
        .put("token_lifetime", 600));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  /** {@code POST /oauth/token grant_type=authorization_code}; {@code secret} null: the client sends its id only. */
  static HttpResponse<Buffer> redeem(String clientId, String secret, String code, String redirectUri, String verifier) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", redirectUri);
    form.put("code_verifier", verifier);
    form.put("client_id", clientId);
    HttpRequest<Buffer> request = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded");
    if (secret != null) {
      request.putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)));
    }
    return request.sendBuffer(Buffer.buffer(ConsentBrowser.encode(form))).await();
  }

  /** A code for {@code app}, granted by the admin token. */
  static String code(JsonObject app, String redirectUri, String verifier) {
    HttpResponse<Buffer> granted = browser.signIn(ConsentBrowser.request(app.getString("client_id"), redirectUri, null, "s",
        ConsentBrowser.challenge(verifier)), TestNode.ADMIN_TOKEN, "allow");
    assertThat(granted.statusCode()).as(granted.bodyAsString()).isEqualTo(303);
    return ConsentBrowser.query(granted.getHeader("Location")).get("code");
  }

  static void assertTokenError(HttpResponse<Buffer> response, int status, String error, String description) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    assertThat(response.bodyAsJsonObject().getString("error")).isEqualTo(error);
    assertThat(response.bodyAsJsonObject().getString("error_description")).contains(description);
  }

  /** The answer is a 303 to {@code redirectUri} carrying {@code error} and the state. */
  static Map<String, String> assertRedirectError(HttpResponse<Buffer> response, String redirectUri, String error, String state) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(303);
    String location = response.getHeader("Location");
    assertThat(location).startsWith(redirectUri + "?");
    Map<String, String> query = ConsentBrowser.query(location);
    assertThat(query).containsEntry("error", error).containsEntry("state", state).containsKey("error_description").doesNotContainKey("code");
    return query;
  }

  static void assertErrorPage(HttpResponse<Buffer> response, int status, String text) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Location")).isNull();
    assertThat(response.getHeader("Content-Type")).startsWith("text/html");
    assertThat(response.bodyAsString()).contains("id=\"error\"").contains(text);
    assertThat(response.getHeader("Content-Security-Policy")).contains("frame-ancestors 'none'");
  }

  static JsonObject claims(String jwt) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  @Test
  void aPersonGrantsScopesOnTheConsentPageAndTheApplicationRedeemsTheCodeOnce() {
    JsonObject app = application("Ticket desk", List.of("admin:write", "audit:read", "bridges:read"), callback);
    String clientId = app.getString("client_id");
    String verifier = ConsentBrowser.verifier();

    HttpResponse<Buffer> page = browser.get(ConsentBrowser.request(clientId, callback, "admin:write audit:read", "st-1",
        ConsentBrowser.challenge(verifier)));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Type")).startsWith("text/html");
    assertThat(page.getHeader("Content-Security-Policy")).contains("default-src 'self'").contains("frame-ancestors 'none'")
        .contains("form-action 'self'");
    assertThat(page.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
    assertThat(page.getHeader("Cache-Control")).isEqualTo("no-store");
    String html = page.bodyAsString();
    assertThat(html).contains("Ticket desk").contains("href=\"/console/console.css\"")
        .contains("id=\"scope-admin:write\"").contains("id=\"scope-audit:read\"").doesNotContain("id=\"scope-bridges:read\"")
        .contains("type=\"password\" id=\"token\" name=\"token\"").contains("id=\"allow\" name=\"decision\" value=\"allow\"")
        .contains("id=\"deny\" name=\"decision\" value=\"deny\"").doesNotContain("<script");
    MultiMap form = ConsentBrowser.form(html);
    assertThat(form.getAll("scope")).containsExactly("admin:write", "audit:read");
    form.set("token", TestNode.ADMIN_TOKEN).set("decision", "allow");
    form.remove("scope");
    form.add("scope", "admin:write"); // the person unchecks audit:read

    HttpResponse<Buffer> granted = browser.post(form);
    assertThat(granted.statusCode()).as(granted.bodyAsString()).isEqualTo(303);
    assertThat(granted.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
    String location = granted.getHeader("Location");
    assertThat(location).startsWith(callback + "?code=");
    Map<String, String> back = ConsentBrowser.query(location);
    assertThat(back).containsEntry("state", "st-1");
    String code = back.get("code");
    assertThat(node.http.getAbs(location).send().await().statusCode()).isEqualTo(200);
    assertThat(receiver.received("/callback")).isNotEmpty();
    assertThat(node.queryValue("SELECT count(*) FROM authorization_codes WHERE code_hash = sha256(convert_to($1, 'UTF8'))", code)).isEqualTo(1L);
    assertThat(node.queryValue("SELECT count(*) FROM authorization_codes WHERE position(convert_to($1, 'UTF8') in code_hash) > 0", code))
        .as("only the code's hash is stored").isEqualTo(0L);
    assertThat(node.queryValue("SELECT user_id || ' ' || service_account || ' ' || (payload->>'scope') FROM audit_events "
        + "WHERE action = 'oauth.authorization_granted' AND resource_id = $1", clientId)).isEqualTo("admin " + clientId + " admin:write");

    HttpResponse<Buffer> issued = redeem(clientId, app.getString("client_secret"), code, callback, verifier);
    assertThat(issued.statusCode()).as(issued.bodyAsString()).isEqualTo(200);
    assertThat(issued.getHeader("Cache-Control")).isEqualTo("no-store");
    JsonObject body = issued.bodyAsJsonObject();
    assertThat(body.getString("token_type")).isEqualTo("Bearer");
    assertThat(body.getInteger("expires_in")).isEqualTo(600);
    assertThat(body.getString("scope")).isEqualTo("admin:write");
    String token = body.getString("access_token");
    JsonObject claims = claims(token);
    assertThat(claims.getString("sub")).isEqualTo("admin");
    assertThat(claims.getString("client_id")).isEqualTo(clientId);
    assertThat(claims.getString("azp")).isEqualTo(clientId);
    assertThat(node.queryValue("SELECT user_id || ' ' || service_account FROM audit_events WHERE action = 'oauth.token_issued' AND resource_id = $1",
        clientId)).isEqualTo("admin " + clientId);

    HttpResponse<Buffer> key = node.send(node.request(HttpMethod.POST, "/v1/admin/api-keys").putHeader("Authorization", "Bearer " + token),
        new JsonObject().put("name", "made through the desk").put("scopes", new JsonArray().add("rooms:read")));
    assertThat(key.statusCode()).as(key.bodyAsString()).isEqualTo(201);
    assertThat(node.queryValue("SELECT user_id || ' ' || service_account FROM audit_events WHERE action = 'api_key.created' AND resource_id = $1",
        key.bodyAsJsonObject().getString("key_id"))).isEqualTo("admin " + clientId);

    assertTokenError(redeem(clientId, app.getString("client_secret"), code, callback, verifier), 400, "invalid_grant", "used already");
    HttpResponse<Buffer> revoked = node.send(node.request(HttpMethod.GET, "/v1/admin/applications").putHeader("Authorization", "Bearer " + token), null);
    assertThat(revoked.statusCode()).as("a code presented twice revokes the token of its first use").isEqualTo(401);
    assertThat(revoked.bodyAsJsonObject().getString("detail")).contains("authorization code it was issued for was presented again");
    assertThat(node.queryValue("SELECT count(*) FROM revoked_tokens WHERE jti = $1", claims.getString("jti"))).isEqualTo(1L);

  }

  @Test
  void theTokenEndpointRefusesAWrongVerifierAnotherClientAndAnotherRedirectUri() {
    String other = receiver.url("/other");
    JsonObject app = application("crm", List.of("rooms:read"), callback, other);
    JsonObject intruder = application("intruder", List.of("rooms:read"), callback);
    String clientId = app.getString("client_id");
    String secret = app.getString("client_secret");

    String verifier = ConsentBrowser.verifier();
    assertTokenError(redeem(clientId, secret, code(app, callback, verifier), callback, ConsentBrowser.verifier()), 400, "invalid_grant",
        "does not match the code_challenge");
    assertTokenError(redeem(clientId, secret, code(app, callback, verifier), callback, "short"), 400, "invalid_grant", "43 to 128");
    assertTokenError(redeem(intruder.getString("client_id"), intruder.getString("client_secret"), code(app, callback, verifier), callback, verifier),
        400, "invalid_grant", "another client");
    assertTokenError(redeem(clientId, secret, code(app, callback, verifier), other, verifier), 400, "invalid_grant", "redirect_uri");
    assertTokenError(redeem(clientId, secret, "ac_never-issued", callback, verifier), 400, "invalid_grant", "unknown");
    assertTokenError(redeem(clientId, secret, code(app, callback, verifier), callback, null), 400, "invalid_request", "code_verifier is required");

    String code = code(app, callback, verifier);
    assertTokenError(redeem(clientId, null, code, callback, verifier), 401, "invalid_client", "client authentication is required");
    assertTokenError(redeem(clientId, "cs_wrong", code, callback, verifier), 401, "invalid_client", "wrong secret");
    assertThat(redeem(clientId, secret, code, callback, verifier).statusCode()).as("a refused client does not use up the code").isEqualTo(200);
  }

  @Test
  void aCodeExpiresAfterItsLifetime() {
    JsonObject app = application("slow", List.of("rooms:read"), callback);
    String verifier = ConsentBrowser.verifier();
    String code = code(app, callback, verifier);
    node.clock.advance(Duration.ofSeconds(61));
    assertTokenError(redeem(app.getString("client_id"), app.getString("client_secret"), code, callback, verifier), 400, "invalid_grant", "expired");

    String fresh = code(app, callback, verifier);
    node.clock.advance(Duration.ofSeconds(59));
    assertThat(redeem(app.getString("client_id"), app.getString("client_secret"), fresh, callback, verifier).statusCode()).isEqualTo(200);
    node.clock.advance(Duration.ofSeconds(2));
    assertThat(node.node.purge().await().purged("authorization codes")).as("the expired one, never used").isGreaterThanOrEqualTo(1);
    assertThat(node.queryValue("SELECT count(*) FROM authorization_codes WHERE client_id = $1 AND token_jti IS NOT NULL",
        app.getString("client_id"))).as("the redeemed one stays while its token lives, for a replay to revoke it").isEqualTo(1L);
    node.clock.advance(Duration.ofSeconds(3600 + 61));
    node.node.purge().await();
    assertThat(node.queryValue("SELECT count(*) FROM authorization_codes WHERE client_id = $1", app.getString("client_id"))).isEqualTo(0L);
  }

  @Test
  void anUntrustedClientOrRedirectUriGetsAPageNeverARedirect() {
    JsonObject app = application("crm", List.of("rooms:read"), callback);
    String challenge = ConsentBrowser.challenge(ConsentBrowser.verifier());
    assertErrorPage(browser.get(ConsentBrowser.request(app.getString("client_id"), "https://evil.example/cb", null, "s", challenge)), 400,
        "is not one registered");
    assertErrorPage(browser.get(ConsentBrowser.request(app.getString("client_id"), callback + "/", null, "s", challenge)), 400,
        "is not one registered");
    assertErrorPage(browser.get(ConsentBrowser.request("app_unknown", callback, null, "s", challenge)), 400, "no application");
    assertErrorPage(browser.get(ConsentBrowser.request(null, callback, null, "s", challenge)), 400, "client_id is required");

    // The form is checked again: a redirect URI changed in the page is refused there too.
    HttpResponse<Buffer> page = browser.get(ConsentBrowser.request(app.getString("client_id"), callback, null, "s", challenge));
    MultiMap form = ConsentBrowser.form(page.bodyAsString()).set("redirect_uri", "https://evil.example/cb")
        .set("token", TestNode.ADMIN_TOKEN).set("decision", "allow");
    assertErrorPage(browser.post(form), 400, "is not one registered");
  }

  @Test
  void errorsAfterTheRedirectUriIsTrustedGoBackToTheClient() {
    JsonObject app = application("crm", List.of("rooms:read", "rooms:write"), callback);
    String clientId = app.getString("client_id");
    String challenge = ConsentBrowser.challenge(ConsentBrowser.verifier());

    Map<String, String> plain = ConsentBrowser.request(clientId, callback, null, "st", challenge);
    plain.put("code_challenge_method", "plain");
    assertThat(assertRedirectError(browser.get(plain), callback, "invalid_request", "st").get("error_description")).contains("S256");
    Map<String, String> noMethod = ConsentBrowser.request(clientId, callback, null, "st", challenge);
    noMethod.remove("code_challenge_method");
    assertRedirectError(browser.get(noMethod), callback, "invalid_request", "st");
    assertThat(assertRedirectError(browser.get(ConsentBrowser.request(clientId, callback, null, "st", null)), callback, "invalid_request", "st")
        .get("error_description")).contains("code_challenge is required");
    assertRedirectError(browser.get(ConsentBrowser.request(clientId, callback, null, "st", "too-short")), callback, "invalid_request", "st");
    Map<String, String> implicit = ConsentBrowser.request(clientId, callback, null, "st", challenge);
    implicit.put("response_type", "token");
    assertRedirectError(browser.get(implicit), callback, "unsupported_response_type", "st");
    assertThat(assertRedirectError(browser.get(ConsentBrowser.request(clientId, callback, "rooms:read admin:write", "st", challenge)), callback,
        "invalid_scope", "st").get("error_description")).contains("admin:write");

    HttpResponse<Buffer> denied = browser.signIn(ConsentBrowser.request(clientId, callback, "rooms:read", "st-deny", challenge), "", "deny");
    assertRedirectError(denied, callback, "access_denied", "st-deny");
  }

  @Test
  void aWrongTokenShowsThePageAgainWithAnErrorAndIsAudited() {
    JsonObject app = application("crm", List.of("rooms:read"), callback);
    String challenge = ConsentBrowser.challenge(ConsentBrowser.verifier());
    HttpResponse<Buffer> again = browser.signIn(ConsentBrowser.request(app.getString("client_id"), callback, null, "st", challenge),
        "sak_not-a-real-key", "allow");

    assertErrorPage(again, 401, "Sign-in failed");
    assertThat(again.bodyAsString()).contains("id=\"allow\"").contains("id=\"scope-rooms:read\"").doesNotContain("sak_not-a-real-key");
    assertThat(ConsentBrowser.form(again.bodyAsString()).get("state")).isEqualTo("st");
    assertThat(node.queryValue("SELECT category FROM audit_events WHERE action = 'oauth.sign_in_failed' AND resource_id = $1",
        app.getString("client_id"))).isEqualTo("AUTHENTICATION");
    assertThat(node.queryValue("SELECT count(*) FROM audit_events WHERE payload::text LIKE '%sak_not-a-real-key%'")).isEqualTo(0L);
  }

  @Test
  void theGrantIsLimitedToWhatTheSignedInPersonMayDo() {
    JsonObject app = application("crm", List.of("audit:read", "bridges:read"), callback);
    String clientId = app.getString("client_id");
    HttpResponse<Buffer> created = node.send(node.admin(HttpMethod.POST, "/v1/admin/api-keys"),
        new JsonObject().put("name", "auditor").put("scopes", new JsonArray().add("audit:read").add("rooms:read")));
    String apiKey = created.bodyAsJsonObject().getString("api_key");
    String keyId = created.bodyAsJsonObject().getString("key_id");

    String verifier = ConsentBrowser.verifier();
    HttpResponse<Buffer> granted = browser.signIn(ConsentBrowser.request(clientId, callback, null, "st", ConsentBrowser.challenge(verifier)),
        apiKey, "allow");
    assertThat(granted.statusCode()).as(granted.bodyAsString()).isEqualTo(303);
    HttpResponse<Buffer> issued = redeem(clientId, app.getString("client_secret"), ConsentBrowser.query(granted.getHeader("Location")).get("code"),
        callback, verifier);
    assertThat(issued.bodyAsJsonObject().getString("scope")).isEqualTo("audit:read");
    String token = issued.bodyAsJsonObject().getString("access_token");
    assertThat(claims(token).getString("sub")).isEqualTo("apikey:" + keyId);
    assertThat(node.send(node.request(HttpMethod.GET, "/v1/admin/audit").putHeader("Authorization", "Bearer " + token), null).statusCode())
        .isEqualTo(200);

    JsonObject bridgesOnly = application("bridges", List.of("bridges:read"), callback);
    HttpResponse<Buffer> nothing = browser.signIn(ConsentBrowser.request(bridgesOnly.getString("client_id"), callback, null, "st2",
        ConsentBrowser.challenge(verifier)), apiKey, "allow");
    assertRedirectError(nothing, callback, "access_denied", "st2");

    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/api-keys/" + keyId), null).statusCode()).isEqualTo(204);
    HttpResponse<Buffer> cutOff = node.send(node.request(HttpMethod.GET, "/v1/admin/audit").putHeader("Authorization", "Bearer " + token), null);
    assertThat(cutOff.statusCode()).as("revoking the key takes the tokens signed in with it").isEqualTo(401);
    assertThat(cutOff.bodyAsJsonObject().getString("detail")).contains("the API key it was issued for was revoked");
  }

  @Test
  void theConsoleIsAPublicClientSentBackOnlyToItsOwnOrigin() {
    String origin = "http://127.0.0.1:" + node.port() + "/";
    String verifier = ConsentBrowser.verifier();
    String challenge = ConsentBrowser.challenge(verifier);
    assertErrorPage(browser.get(ConsentBrowser.request("console", "http://evil.example/", null, "s", challenge)), 400, "its own address");
    assertErrorPage(browser.get(ConsentBrowser.request("console", "http://localhost:" + node.port() + "/", null, "s", challenge)), 400,
        "its own address");
    assertErrorPage(browser.get(ConsentBrowser.request("console", origin + "cb", null, "s", challenge)), 400, "its own address");

    HttpResponse<Buffer> page = browser.get(ConsentBrowser.request("console", origin, null, "s", challenge));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(ConsentBrowser.form(page.bodyAsString()).getAll("scope")).containsExactlyInAnyOrderElementsOf(com.scairelay.http.Scopes.ALL);
    HttpResponse<Buffer> granted = browser.signIn(ConsentBrowser.request("console", origin,
        String.join(" ", com.scairelay.http.Scopes.ALL), "s", challenge), TestNode.ADMIN_TOKEN, "allow");
    assertThat(granted.getHeader("Location")).startsWith(origin + "?code=");
    String code = ConsentBrowser.query(granted.getHeader("Location")).get("code");

    HttpResponse<Buffer> issued = redeem("console", null, code, origin, verifier);
    assertThat(issued.statusCode()).as(issued.bodyAsString()).isEqualTo(200);
    assertThat(issued.bodyAsJsonObject().getInteger("expires_in")).isEqualTo(3600);
    String token = issued.bodyAsJsonObject().getString("access_token");
    assertThat(claims(token).getString("azp")).isEqualTo("console");
    assertThat(claims(token).getString("sub")).isEqualTo("admin");

    assertThat(node.send(node.admin(HttpMethod.DELETE, "/v1/admin/applications/console"), null).statusCode())
        .as("console is no application to delete").isEqualTo(404);
    node.clock.advance(Duration.ofSeconds(6)); // past auth.revocation_check_seconds
    HttpResponse<Buffer> room = node.send(node.request(HttpMethod.POST, "/v1/rooms").putHeader("Authorization", "Bearer " + token),
        new JsonObject().put("name", "from the console"));
    assertThat(room.statusCode()).as(room.bodyAsString()).isEqualTo(201);
    HttpResponse<Buffer> secretless = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer("grant_type=client_credentials&client_id=console")).await();
    assertTokenError(secretless, 401, "invalid_client", "client authentication");
  }

  @Test
  void valuesOnThePagesAreEscaped() {
    JsonObject app = application("<script>alert('name')</script>", List.of("rooms:read"), callback);
    String challenge = ConsentBrowser.challenge(ConsentBrowser.verifier());
    String state = "\"><script>alert(1)</script>";
    HttpResponse<Buffer> page = browser.get(ConsentBrowser.request(app.getString("client_id"), callback, null, state, challenge));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.bodyAsString()).doesNotContain("<script").contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;")
        .contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    assertThat(ConsentBrowser.form(page.bodyAsString()).get("state")).as("state goes back untouched").isEqualTo(state);

    HttpResponse<Buffer> unknown = browser.get(ConsentBrowser.request("<script>x</script>", callback, null, state, challenge));
    assertErrorPage(unknown, 400, "&lt;script&gt;x&lt;/script&gt;");
    assertThat(unknown.bodyAsString()).doesNotContain("<script");

    HttpResponse<Buffer> granted = browser.signIn(ConsentBrowser.request(app.getString("client_id"), callback, null, state, challenge),
        TestNode.ADMIN_TOKEN, "allow");
    assertThat(ConsentBrowser.query(granted.getHeader("Location")).get("state")).isEqualTo(state);
  }
}
