package com.scairelay.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.scairelay.support.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens of an external OpenID Connect issuer: a real issuer on loopback (discovery document and JWK
 * set), tokens signed with nimbus-jose-jwt, the node told only the issuer URL and the audience.
 */
class ExternalIssuerTest {
  static final String AUDIENCE = "scairelay-test";
  static Vertx issuerVertx;
  static HttpServer issuer;
  static int issuerPort;
  static String issuerUrl;
  static final List<JWK> published = new CopyOnWriteArrayList<>();
  static final AtomicInteger jwksFetches = new AtomicInteger();
  /** The issuer takes a request for its keys and never answers. */
  static volatile boolean stalled;
  static RSAKey rsa;
  static ECKey ec;
  static TestNode node;

  @BeforeAll
  static void start() throws JOSEException {
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").algorithm(JWSAlgorithm.RS256).keyUse(KeyUse.SIGNATURE).generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").algorithm(JWSAlgorithm.ES256).keyUse(KeyUse.SIGNATURE).generate();
    published.add(rsa.toPublicJWK());
    published.add(ec.toPublicJWK());
    issuerVertx = Vertx.vertx();
    issuerPort = TestNode.freePort();
    issuerUrl = "http://127.0.0.1:" + issuerPort;
    startIssuer();
    node = TestNode.start(Map.of("RELAY_AUTH_OIDC_ISSUER", issuerUrl, "RELAY_AUTH_OIDC_AUDIENCE", AUDIENCE));
  }

  static void startIssuer() {
    issuer = issuerVertx.createHttpServer().requestHandler(request -> {
      if (request.path().equals("/.well-known/openid-configuration")) {
        request.response().putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("issuer", issuerUrl).put("jwks_uri", issuerUrl + "/jwks").encode());
      } else if (request.path().equals("/jwks")) {
        jwksFetches.incrementAndGet();
        if (stalled) {
          return;
        }
        request.response().putHeader("Content-Type", "application/json").end(new JsonObject(new JWKSet(published).toJSONObject(true)).encode());
      } else {
        request.response().setStatusCode(404).end();
      }
    }).listen(issuerPort, "127.0.0.1").await();
  }

  @AfterAll
  static void stop() {
    node.close();
    issuerVertx.close().await();
  }

  /** Claims of a good token, at the node's time; {@code change} edits them. */
  static String token(JWSAlgorithm alg, String kid, JWSSigner signer, Consumer<JWTClaimsSet.Builder> change) {
    Instant now = node.clock.instant();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuerUrl).subject("alice@idp.example").audience(AUDIENCE)
        .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300))).claim("azp", "idp-portal")
        .claim("scope", "openid profile bridges:read audit:read");
    change.accept(claims);
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims.build());
      jwt.sign(signer);
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String rsaToken(Consumer<JWTClaimsSet.Builder> change) {
    try {
      return token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(rsa), change);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse<Buffer> call(String token, HttpMethod method, String path, JsonObject body) {
    return node.send(node.request(method, path).putHeader("Authorization", "Bearer " + token), body);
  }

  static void assertRefused(HttpResponse<Buffer> response, String detail) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(401);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detail);
  }

  @Test
  void anRs256TokenOfTheIssuerCarriesItsRelayScopes() {
    String token = rsaToken(c -> { });
    assertThat(call(token, HttpMethod.GET, "/v1/admin/audit", null).statusCode()).isEqualTo(200);
    assertThat(call(token, HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> write = call(token, HttpMethod.POST, "/v1/rooms", new JsonObject().put("name", "no"));
    assertThat(write.statusCode()).as("rooms:write is not among its scopes").isEqualTo(403);

    JsonObject app = node.send(node.admin(HttpMethod.POST, "/v1/admin/applications"), new JsonObject().put("name", "own")
        .put("scopes", new JsonArray().add("bridges:read"))).bodyAsJsonObject();
    HttpResponse<Buffer> own = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer(ConsentBrowser.encode(Map.of("grant_type", "client_credentials", "client_id", app.getString("client_id"),
            "client_secret", app.getString("client_secret"))))).await();
    assertThat(own.statusCode()).as("tokens of this relay keep working").isEqualTo(200);
    assertThat(call(own.bodyAsJsonObject().getString("access_token"), HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
  }

  @Test
  void anEs256TokenActsAndTheAuditLogNamesTheExternalSubject() throws JOSEException {
    String token = token(JWSAlgorithm.ES256, "ec-1", new ECDSASigner(ec), c -> c.subject("bob@idp.example")
        .claim("scope", new JsonArray().add("admin:write").add("unknown:scope").getList()));
    HttpResponse<Buffer> key = call(token, HttpMethod.POST, "/v1/admin/api-keys",
        new JsonObject().put("name", "from the IdP").put("scopes", new JsonArray().add("rooms:read")));
    assertThat(key.statusCode()).as(key.bodyAsString()).isEqualTo(201);
    assertThat(node.queryValue("SELECT user_id || ' ' || service_account FROM audit_events WHERE action = 'api_key.created' AND resource_id = $1",
        key.bodyAsJsonObject().getString("key_id"))).isEqualTo("bob@idp.example idp-portal");
  }

  @Test
  void tokensThatAreNotTheIssuersOrNoLongerValidAreRefused() throws JOSEException {
    assertRefused(call(rsaToken(c -> c.issuer("http://127.0.0.1:1/other")), HttpMethod.GET, "/v1/admin/bridges", null), "not valid");
    assertRefused(call(rsaToken(c -> c.expirationTime(Date.from(node.clock.instant().minusSeconds(61)))), HttpMethod.GET,
        "/v1/admin/bridges", null), "expired");
    assertThat(call(rsaToken(c -> c.expirationTime(Date.from(node.clock.instant().minusSeconds(30)))), HttpMethod.GET,
        "/v1/admin/bridges", null).statusCode()).as("within the leeway of 60 s").isEqualTo(200);
    assertRefused(call(rsaToken(c -> c.notBeforeTime(Date.from(node.clock.instant().plusSeconds(120)))), HttpMethod.GET,
        "/v1/admin/bridges", null), "not valid yet");
    assertRefused(call(rsaToken(c -> c.audience("someone-else")), HttpMethod.GET, "/v1/admin/bridges", null), "audience");
    assertRefused(call(rsaToken(c -> c.subject("admin")), HttpMethod.GET, "/v1/admin/bridges", null), "is reserved on this relay");
    assertRefused(call(rsaToken(c -> c.subject("apikey:key_123")), HttpMethod.GET, "/v1/admin/bridges", null), "is reserved on this relay");

    String[] parts = rsaToken(c -> { }).split("\\.");
    String forged = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(new JsonObject(new String(
        java.util.Base64.getUrlDecoder().decode(parts[1]))).put("scope", "admin:write").encode().getBytes());
    assertRefused(call(parts[0] + "." + forged + "." + parts[2], HttpMethod.GET, "/v1/admin/bridges", null), "signature does not verify");

    RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    assertRefused(call(token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(stranger), c -> { }), HttpMethod.GET, "/v1/admin/bridges", null),
        "signature does not verify");
    String unsigned = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes()) + "." + parts[1] + ".";
    assertRefused(call(unsigned, HttpMethod.GET, "/v1/admin/bridges", null), "algorithm");
  }

  @Test
  void aKeyTheIssuerRotatedInIsFetchedAtMostOncePer30Seconds() throws JOSEException {
    assertThat(call(rsaToken(c -> { }), HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
    RSAKey rotated = new RSAKeyGenerator(2048).keyID("rsa-2").algorithm(JWSAlgorithm.RS256).generate();
    published.add(rotated.toPublicJWK());
    node.clock.advance(Duration.ofSeconds(31));
    int before = jwksFetches.get();

    String token = token(JWSAlgorithm.RS256, "rsa-2", new RSASSASigner(rotated), c -> { });
    assertThat(call(token, HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
    assertThat(jwksFetches.get()).isEqualTo(before + 1);

    RSAKey unknown = new RSAKeyGenerator(2048).keyID("rsa-unpublished").generate();
    assertRefused(call(token(JWSAlgorithm.RS256, "rsa-unpublished", new RSASSASigner(unknown), c -> { }), HttpMethod.GET,
        "/v1/admin/bridges", null), "not among the issuer's keys");
    assertRefused(call(token(JWSAlgorithm.RS256, "rsa-unpublished", new RSASSASigner(unknown), c -> { }), HttpMethod.GET,
        "/v1/admin/bridges", null), "not among the issuer's keys");
    assertThat(jwksFetches.get()).as("an unknown key fetches again only after 30 s").isEqualTo(before + 1);
    assertThat(call(token, HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
  }

  @Test
  void anUnreachableIssuerRefusesItsNewKeysWith401AndKnownKeysKeepWorking() throws JOSEException {
    assertThat(call(rsaToken(c -> { }), HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).isEqualTo(200);
    ECKey next = new ECKeyGenerator(Curve.P_256).keyID("ec-next").generate();
    stalled = true;
    try {
      node.clock.advance(Duration.ofSeconds(31));
      long started = System.nanoTime();
      assertRefused(call(token(JWSAlgorithm.ES256, "ec-next", new ECDSASigner(next), c -> { }), HttpMethod.GET, "/v1/admin/bridges", null),
          "the issuer's keys could not be fetched");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).as("a silent issuer is given up before the request times out")
          .isLessThan(Duration.ofMillis(1900));
    } finally {
      stalled = false;
    }
    issuer.close().await();
    try {
      node.clock.advance(Duration.ofSeconds(6));
      long started = System.nanoTime();
      assertRefused(call(token(JWSAlgorithm.ES256, "ec-next", new ECDSASigner(next), c -> { }), HttpMethod.GET, "/v1/admin/bridges", null),
          "the issuer's keys could not be fetched");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
      assertThat(call(rsaToken(c -> { }), HttpMethod.GET, "/v1/admin/bridges", null).statusCode()).as("keys already fetched").isEqualTo(200);
    } finally {
      startIssuer();
    }
  }

  @Test
  void aPersonSignsInToTheConsentPageWithTheIssuersToken() throws JOSEException {
    String origin = "http://127.0.0.1:" + node.port() + "/";
    String verifier = ConsentBrowser.verifier();
    String idpToken = token(JWSAlgorithm.ES256, "ec-1", new ECDSASigner(ec), c -> c.subject("carol@idp.example"));
    HttpResponse<Buffer> granted = new ConsentBrowser(node).signIn(ConsentBrowser.request("console", origin, "audit:read rooms:write", "s",
        ConsentBrowser.challenge(verifier)), idpToken, "allow");
    assertThat(granted.statusCode()).as(granted.bodyAsString()).isEqualTo(303);
    String code = ConsentBrowser.query(granted.getHeader("Location")).get("code");
    HttpResponse<Buffer> issued = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer(ConsentBrowser.encode(Map.of("grant_type", "authorization_code", "code", code, "redirect_uri", origin,
            "code_verifier", verifier, "client_id", "console")))).await();
    assertThat(issued.statusCode()).as(issued.bodyAsString()).isEqualTo(200);
    assertThat(issued.bodyAsJsonObject().getString("scope")).as("rooms:write is not the person's to grant").isEqualTo("audit:read");
    assertThat(node.queryValue("SELECT user_id FROM audit_events WHERE action = 'oauth.token_issued' AND service_account = 'console' "
        + "ORDER BY seq DESC LIMIT 1")).isEqualTo("carol@idp.example");
  }
}
