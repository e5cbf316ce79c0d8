package com.scairelay.webhooks;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The webhook subscriptions admin API: create, read, change, pause, rotate, delete, and what it refuses. */
class WebhookAdminTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /** Subscribed to ADMIN, these webhooks receive the admin actions below: the URL is a closed loopback port, so nothing leaves the machine. */
  private static JsonObject valid() {
    return new JsonObject().put("name", "siem").put("url", "http://127.0.0.1:9/hooks/scai")
        .put("events", new JsonArray().add("SECURITY").add("admin"));
  }

  private HttpResponse<Buffer> call(HttpMethod method, String path, JsonObject body) {
    return node.send(node.admin(method, path), body);
  }

  private void assertRefused(JsonObject body, String detailPart) {
    HttpResponse<Buffer> response = call(HttpMethod.POST, "/v1/admin/webhooks", body);
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detailPart);
  }

  @Test
  void createShowsTheGeneratedSecretOnceAndNeverAgain() {
    HttpResponse<Buffer> created = call(HttpMethod.POST, "/v1/admin/webhooks", valid()
        .put("filters", new JsonObject().put("user_ids", new JsonArray().add("u1")))
        .put("headers", new JsonObject().put("X-Tenant", "acme")));

    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject body = created.bodyAsJsonObject();
    String id = body.getString("webhook_id");
    String secret = body.getString("secret");
    assertThat(secret).startsWith("whsec_").hasSizeGreaterThan(40);
    assertThat(body.getJsonArray("events")).containsExactly("SECURITY", "ADMIN");
    assertThat(body.getInteger("queue_limit")).isEqualTo(1000);
    assertThat(body.getJsonObject("headers").getString("X-Tenant")).isEqualTo("acme");

    String one = call(HttpMethod.GET, "/v1/admin/webhooks/" + id, null).bodyAsString();
    String list = call(HttpMethod.GET, "/v1/admin/webhooks", null).bodyAsString();
    assertThat(one).contains(id).doesNotContain(secret).doesNotContain("\"secret\"");
    assertThat(list).contains(id).doesNotContain(secret);
  }

  @Test
  void aGivenSecretIsKept() {
    JsonObject body = call(HttpMethod.POST, "/v1/admin/webhooks", valid().put("secret", "my-own-secret-of-24-chars"))
        .bodyAsJsonObject();
    assertThat(body.getString("secret")).isEqualTo("my-own-secret-of-24-chars");
    assertThat(node.node.webhooks().find(body.getString("webhook_id")).await().orElseThrow().secret())
        .isEqualTo("my-own-secret-of-24-chars");
  }

  @Test
  void badBodiesAreRefusedNamingTheField() {
    assertRefused(valid().putNull("name"), "'name'");
    assertRefused(valid().put("url", "ftp://x"), "'url'");
    assertRefused(valid().put("events", new JsonArray()), "'events'");
    assertRefused(valid().put("events", new JsonArray().add("WEATHER")), "WEATHER");
    assertRefused(valid().put("filters", new JsonObject().put("colours", new JsonArray().add("red"))), "'filters.colours'");
    assertRefused(valid().put("filters", new JsonObject().put("ips", "10.0.0.1")), "'filters.ips'");
    assertRefused(valid().put("secret", "short"), "'secret'");
    assertRefused(valid().put("queue_limit", 0), "'queue_limit'");
    assertRefused(valid().put("headers", new JsonObject().put("Bad Header", "x")), "invalid header name");
    assertRefused(valid().put("headers", new JsonObject().put("X-Line", "a\r\nInjected: yes")), "'headers.X-Line'");
  }

  @Test
  void connectionAndNodeHeadersAreRefusedNamingTheHeader() {
    for (String header : new String[] {"Host", "Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Content-Length",
        "Upgrade", "Expect", "Proxy-Authorization", "proxy-connection"}) {
      assertRefused(valid().put("headers", new JsonObject().put(header, "x")),
          "may not set '" + header + "': it belongs to the node's connection");
    }
    for (String header : new String[] {"X-ScaiDrive-Signature", "x-scaidrive-event", "X-ScaiDrive-Delivery-Id", "X-ScaiDrive-Anything",
        "User-Agent"}) {
      assertRefused(valid().put("headers", new JsonObject().put(header, "x")), "may not set '" + header + "': the node sets it");
    }
    String id = call(HttpMethod.POST, "/v1/admin/webhooks", valid()).bodyAsJsonObject().getString("webhook_id");
    HttpResponse<Buffer> patched = call(HttpMethod.PATCH, "/v1/admin/webhooks/" + id,
        new JsonObject().put("headers", new JsonObject().put("Transfer-Encoding", "chunked")));
    assertThat(patched.statusCode()).isEqualTo(400);
    assertThat(patched.bodyAsJsonObject().getString("detail")).contains("'Transfer-Encoding'");
  }

  @Test
  void aContentTypeIsAcceptedWhenItIsOneMediaType() {
    for (String mediaType : new String[] {"application/json", "application/cloudevents+json; charset=UTF-8", "text/plain;format=\"flowed\"",
        "application/vnd.acme.audit+json;charset=\"utf-8\";v=2"}) {
      HttpResponse<Buffer> created = call(HttpMethod.POST, "/v1/admin/webhooks",
          valid().put("headers", new JsonObject().put("Content-Type", mediaType).put("Authorization", "Bearer t")));
      assertThat(created.statusCode()).as(mediaType + ": " + created.bodyAsString()).isEqualTo(201);
      assertThat(created.bodyAsJsonObject().getJsonObject("headers").getString("Content-Type")).isEqualTo(mediaType);
    }
    String id = call(HttpMethod.POST, "/v1/admin/webhooks", valid()).bodyAsJsonObject().getString("webhook_id");
    HttpResponse<Buffer> patched = call(HttpMethod.PATCH, "/v1/admin/webhooks/" + id,
        new JsonObject().put("headers", new JsonObject().put("content-type", "application/x-ndjson")));
    assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject().getJsonObject("headers").getString("content-type")).isEqualTo("application/x-ndjson");
  }

  @Test
  void aContentTypeThatIsNotOneMediaTypeIsRefused() {
    for (String bad : new String[] {"json", "application/", "application json", " application/json", "a/" + "b".repeat(300)}) {
      assertRefused(valid().put("headers", new JsonObject().put("Content-Type", bad)), "'headers.Content-Type' must be a media type");
    }
    for (String bad : new String[] {"application/json;", "application/json; charset", "text/plain; a=b c", "text/plain; a=\"open"}) {
      assertRefused(valid().put("headers", new JsonObject().put("Content-Type", bad)), "'headers.Content-Type' has a malformed parameter");
    }
    assertRefused(valid().put("headers", new JsonObject().put("Content-Type", "*/*")), "not a range");
    assertRefused(valid().put("headers", new JsonObject().put("Content-Type", "application/*")), "not a range");
    assertRefused(valid().put("headers", new JsonObject().put("Content-Type", "application/json; charset=iso-8859-1")), "charset=utf-8");
    assertRefused(valid().put("headers", new JsonObject().put("Content-Type", "application/json; charset=\"latin1\"")), "charset=utf-8");
    assertRefused(valid().put("headers", new JsonObject().put("Content-Type", "application/json").put("content-type", "text/plain")),
        "twice");
  }

  @Test
  void internalAddressesAreRefusedUnlessAllowed() {
    try (TestNode strict = TestNode.start(java.util.Map.of("RELAY_OUTBOUND_ALLOW_LOOPBACK", "false"))) {
      HttpResponse<Buffer> response = strict.send(strict.admin(HttpMethod.POST, "/v1/admin/webhooks"),
          valid().put("url", "http://127.0.0.1:9000/hook"));
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(response.bodyAsJsonObject().getString("detail")).contains("RELAY_OUTBOUND_ALLOW_LOOPBACK");
    }
  }

  @Test
  void patchChangesOnlyWhatItNames() {
    String id = call(HttpMethod.POST, "/v1/admin/webhooks", valid()).bodyAsJsonObject().getString("webhook_id");

    HttpResponse<Buffer> patched = call(HttpMethod.PATCH, "/v1/admin/webhooks/" + id, new JsonObject()
        .put("events", new JsonArray().add("FILE_ACCESS")).put("queue_limit", 50));

    assertThat(patched.statusCode()).isEqualTo(200);
    JsonObject w = patched.bodyAsJsonObject();
    assertThat(w.getJsonArray("events")).containsExactly("FILE_ACCESS");
    assertThat(w.getInteger("queue_limit")).isEqualTo(50);
    assertThat(w.getString("name")).isEqualTo("siem");
    assertThat(w.getString("url")).isEqualTo("http://127.0.0.1:9/hooks/scai");
    HttpResponse<Buffer> secret = call(HttpMethod.PATCH, "/v1/admin/webhooks/" + id, new JsonObject().put("secret", "x".repeat(20)));
    assertThat(secret.statusCode()).isEqualTo(400);
    assertThat(secret.bodyAsJsonObject().getString("detail")).contains("rotate-secret");
  }

  @Test
  void pauseResumeRotateDeleteAreAuditedAdminActions() {
    String id = call(HttpMethod.POST, "/v1/admin/webhooks", valid()).bodyAsJsonObject().getString("webhook_id");

    assertThat(call(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/pause", null).bodyAsJsonObject().getBoolean("paused")).isTrue();
    assertThat(call(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/resume", null).bodyAsJsonObject().getBoolean("paused")).isFalse();
    JsonObject rotated = call(HttpMethod.POST, "/v1/admin/webhooks/" + id + "/rotate-secret", null).bodyAsJsonObject();
    assertThat(rotated.getString("secret")).startsWith("whsec_");
    assertThat(rotated.getString("previous_secret_expires_at")).isEqualTo(node.clock.instant().plus(Duration.ofHours(24)).toString());
    call(HttpMethod.PATCH, "/v1/admin/webhooks/" + id, new JsonObject().put("name", "renamed"));
    assertThat(call(HttpMethod.DELETE, "/v1/admin/webhooks/" + id, null).statusCode()).isEqualTo(204);

    assertThat(call(HttpMethod.GET, "/v1/admin/webhooks/" + id, null).statusCode()).isEqualTo(404);
    assertThat(call(HttpMethod.DELETE, "/v1/admin/webhooks/" + id, null).statusCode()).isEqualTo(404);
    JsonArray audit = call(HttpMethod.GET, "/v1/admin/audit?category=ADMIN&limit=1000", null).bodyAsJsonObject().getJsonArray("events");
    assertThat(audit.stream().map(JsonObject.class::cast).filter(e -> id.equals(e.getString("resource_id"))).map(e -> e.getString("action")))
        .containsExactly("webhook.created", "webhook.paused", "webhook.resumed", "webhook.secret_rotated", "webhook.updated", "webhook.deleted");
  }

  @Test
  void callsWithoutTheTokenAre401() {
    assertThat(node.send(node.request(HttpMethod.GET, "/v1/admin/webhooks"), null).statusCode()).isEqualTo(401);
    assertThat(node.send(node.request(HttpMethod.POST, "/v1/admin/webhooks"), valid()).statusCode()).isEqualTo(401);
  }
}
