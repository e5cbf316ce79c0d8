package com.scairelay.ingress;

import com.scairelay.support.TestNode;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Input that costs an attacker nothing must cost the node nothing either: every such request gets a
 * short 4xx problem, at once, and nothing is stored (issue 11, defects 1–3 and 9).
 */
class HostileInputTest {
  static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /** Sends the request with a raw, unencoded URI and answers within two seconds or fails. */
  private static HttpResponse<Buffer> raw(HttpMethod method, String uri, String contentType, String body, boolean admin) throws Exception {
    var request = admin ? node.admin(method, uri) : node.request(method, uri);
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await(2, TimeUnit.SECONDS);
  }

  private static void assertProblem(HttpResponse<Buffer> response, int status, String detailPart) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(response.bodyAsJsonObject().getString("detail")).contains(detailPart).doesNotContain("Exception", "at com.", "at io.");
  }

  @Test
  void aFormPostWithABadEscapeInItsQueryIsAnsweredNotHeld() throws Exception {
    assertProblem(raw(HttpMethod.POST, "/anything?a=%zz", "application/x-www-form-urlencoded", "x=1", false), 400, "%-escape");
    assertProblem(raw(HttpMethod.POST, "/v1/rooms?a=%zz", "multipart/form-data; boundary=xyz", "--xyz\r\nbroken", true), 400, "%-escape");
  }

  @Test
  void formAndMultipartBodiesAreTakenOnlyWhereAFormIsExpected() throws Exception {
    assertProblem(raw(HttpMethod.POST, "/v1/rooms", "application/x-www-form-urlencoded", "name=x", true), 415, "application/json");
    assertProblem(raw(HttpMethod.POST, "/v1/rooms", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: broken", true),
        415, "application/json");
    HttpResponse<Buffer> token = raw(HttpMethod.POST, "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", false);
    assertThat(token.statusCode()).as("the token endpoint still reads its form").isEqualTo(401);
  }

  @Test
  void aNulCharacterInAnIdOrAQueryValueIsABadRequest() throws Exception {
    assertProblem(raw(HttpMethod.GET, "/v1/admin/bridges/%00", null, null, true), 400, "NUL");
    assertProblem(raw(HttpMethod.GET, "/v1/admin/webhooks/x%00y", null, null, true), 400, "NUL");
    assertProblem(raw(HttpMethod.GET, "/v1/admin/audit?after=%00", null, null, true), 400, "NUL");
    assertProblem(raw(HttpMethod.POST, "/v1/bridges/%00/inbound", "application/json", "{}", false), 400, "NUL");
    HttpResponse<Buffer> token = raw(HttpMethod.POST, "/oauth/token", "application/x-www-form-urlencoded",
        "grant_type=client_credentials&client_id=%00&client_secret=x", false);
    assertThat(token.statusCode()).as(token.bodyAsString()).isEqualTo(400);
    assertThat(token.bodyAsJsonObject().getString("error")).as("RFC 6749 errors at the token endpoint").isEqualTo("invalid_request");
    assertThat(token.bodyAsJsonObject().getString("error_description")).contains("NUL");
  }

  @Test
  void aBadEscapeInATokenFormIsAnInvalidRequest() throws Exception {
    for (String form : new String[] {"grant_type=client_credentials&client_id=%zz&client_secret=x", "grant_type=%", "a=%e"}) {
      HttpResponse<Buffer> token = raw(HttpMethod.POST, "/oauth/token", "application/x-www-form-urlencoded", form, false);
      assertThat(token.statusCode()).as(form + ": " + token.bodyAsString()).isEqualTo(400);
      assertThat(token.bodyAsJsonObject().getString("error")).isEqualTo("invalid_request");
      assertThat(token.bodyAsJsonObject().getString("error_description")).contains("%-escape").doesNotContain("Exception", "hex byte");
      HttpResponse<Buffer> consent = raw(HttpMethod.POST, "/oauth/authorize", "application/x-www-form-urlencoded", form, false);
      assertThat(consent.statusCode()).as(form + ": " + consent.bodyAsString()).isEqualTo(400);
      assertThat(consent.bodyAsString()).contains("malformed %-escape").doesNotContain("Exception");
    }
  }

  @Test
  void aBadEscapeInAPathParameterIsAProblemAndNoErrorInTheLog() throws Exception {
    assertProblem(raw(HttpMethod.POST, "/v1/admin/webhooks/x%4Qy/resume", "application/json", "{}", true), 400, "%-escape");
    assertProblem(raw(HttpMethod.GET, "/v1/rooms/%4/events", null, null, true), 400, "%-escape");
    assertProblem(raw(HttpMethod.POST, "/v1/bridges/%G1/inbound", "application/json", "{}", false), 400, "%-escape");
  }

  @Test
  void aBadEscapeInAQueryIsABadRequest() throws Exception {
    assertProblem(raw(HttpMethod.GET, "/v1/admin/audit?category=%zz", null, null, true), 400, "%-escape");
    assertProblem(raw(HttpMethod.GET, "/v1/admin/bridges?x=%E0%A4", null, null, true), 400, "%-escape");
  }

  @Test
  void deeplyNestedJsonIsRefusedAtTheEdge() throws Exception {
    String roomId = node.createRoom("deep").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    // Written as text: encoding 900 levels would overflow this test's own stack.
    String message = TestNode.message("deep-1", "U1", "deep").encode();
    String nested = "[".repeat(900) + "\"bottom\"" + "]".repeat(900);
    Buffer body = Buffer.buffer(message.substring(0, message.length() - 2) + ",\"nested\":" + nested + "}}");
    HttpResponse<Buffer> response = node.postInboundRaw(bridge.getString("bridge_id"), body,
        SignatureScheme.header(bridge.getString("shared_secret"), node.clock.instant().getEpochSecond(), body)).await(5, TimeUnit.SECONDS);
    assertProblem(response, 400, "nested deeper than 64");
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1", roomId)).isEqualTo(0L);

    JsonArray wide = new JsonArray();
    for (int i = 0; i < 10_001; i++) {
      wide.add(i);
    }
    JsonObject tooWide = TestNode.message("wide-1", "U1", "wide");
    tooWide.getJsonObject("content").put("items", wide);
    assertProblem(node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), tooWide).await(5, TimeUnit.SECONDS),
        400, "more than 10000 elements");

    JsonObject tooLong = TestNode.message("long-1", "U1", "y".repeat(65_537));
    assertProblem(node.postInbound(bridge.getString("bridge_id"), bridge.getString("shared_secret"), tooLong).await(5, TimeUnit.SECONDS),
        400, "longer than 65536 characters");
  }

  @Test
  void whatCouldNotBeStoredExactlyAsSignedIsRefused() throws Exception {
    String roomId = node.createRoom("exact").getString("room_id");
    JsonObject bridge = node.createBridge(roomId, "inbound");
    String json = TestNode.message("x-1", "U1", "SLASH").encode();
    byte[] utf8 = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int at = json.indexOf("SLASH");
    byte[] overlong = new byte[utf8.length - "SLASH".length() + 2];
    System.arraycopy(utf8, 0, overlong, 0, at);
    overlong[at] = (byte) 0xC0;     // an overlong "/"
    overlong[at + 1] = (byte) 0xAF;
    System.arraycopy(utf8, at + 5, overlong, at + 2, utf8.length - at - 5);
    Buffer body = Buffer.buffer(overlong);
    assertProblem(node.postInboundRaw(bridge.getString("bridge_id"), body,
        SignatureScheme.header(bridge.getString("shared_secret"), node.clock.instant().getEpochSecond(), body)).await(5, TimeUnit.SECONDS),
        400, "not valid UTF-8");
    Buffer huge = Buffer.buffer(json.replace("\"SLASH\"", "1e400"));
    assertProblem(node.postInboundRaw(bridge.getString("bridge_id"), huge,
        SignatureScheme.header(bridge.getString("shared_secret"), node.clock.instant().getEpochSecond(), huge)).await(5, TimeUnit.SECONDS),
        400, "too large");
    assertThat(node.queryValue("SELECT count(*) FROM events WHERE room_id = $1", roomId)).isEqualTo(0L);
  }

  @Test
  void parserInternalsStayOutOfTheDetail() throws Exception {
    HttpResponse<Buffer> response = raw(HttpMethod.POST, "/v1/rooms", "application/json", "{\"name\": tru", true);
    assertProblem(response, 400, "not valid JSON");
    assertThat(response.bodyAsJsonObject().getString("detail")).doesNotContain("Jackson", "com.fasterxml", "[Source:");
  }
}
