package com.scairelay.console;

import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static com.scairelay.support.Browser.testId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console in a real headless Chromium against a real node: sign-in, bridges, webhooks and their
 * deliveries, applications, API keys, the audit log, errors, phone width and the keyboard. Saves
 * screenshots of the main pages in target/console-screenshots/.
 */
class ConsoleBrowserTest extends ConsoleTest {
  private static String error() {
    return browser.byId("error").getText();
  }

  private static String pageSource() {
    return browser.driver.getPageSource();
  }

  @Test
  void tabReachesTheTokenFieldAndThenTheSubmitButton() {
    browser.script("document.activeElement.blur()");
    List<String> reached = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      new Actions(browser.driver).sendKeys(Keys.TAB).perform();
      reached.add(String.valueOf(browser.script("return document.activeElement.id || document.activeElement.tagName")));
    }
    assertThat(reached).contains("signin-token", "signin-submit", "signin-oauth");
    assertThat(reached.get(reached.indexOf("signin-token") + 1)).as("the next stop after the token field").isEqualTo("signin-submit");
    // The focused field shows it: a visible outline.
    browser.byId("signin-token").click();
    new Actions(browser.driver).sendKeys(Keys.TAB).perform();
    assertThat(String.valueOf(browser.script("return getComputedStyle(document.activeElement).outlineStyle"))).isNotEqualTo("none");
  }

  @Test
  void aWrongTokenIsRefusedWithTheNodesDetailAndTheAdminTokenSignsIn() {
    browser.screenshot("sign-in");
    browser.type("signin-token", "not-a-token");
    browser.click("signin-submit");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "401"));
    assertThat(browser.byId("error").getAttribute("role")).isEqualTo("alert");
    assertThat(error()).contains("the node does not accept this token");
    assertThat(browser.script("return sessionStorage.getItem('scairelay.token')")).isNull();
    assertThat(browser.find("nav-toggle").isDisplayed() || browser.find("nav").isDisplayed()).isFalse();

    signIn();
    assertThat(browser.script("return sessionStorage.getItem('scairelay.token')")).isEqualTo(TestNode.ADMIN_TOKEN);
    assertThat(browser.driver.getCurrentUrl()).doesNotContain(TestNode.ADMIN_TOKEN);
    assertThat(browser.byId("nav").findElement(By.linkText("Webhooks")).isDisplayed()).isTrue();
    browser.click("sign-out");
    browser.onPage("Sign in");
    assertThat(browser.script("return sessionStorage.getItem('scairelay.token')")).isNull();
  }

  @Test
  void aCustomBridgeShowsItsSecretExactlyOnceAndPausesAndResumes() {
    signIn();
    browser.click("new-bridge");
    browser.onPage("New bridge");
    browser.type("name", "crm-inbound");
    new org.openqa.selenium.support.ui.Select(browser.byId("direction")).selectByValue("inbound");
    browser.click("new-room");
    browser.waiting().until(d -> browser.byId("room_id").getAttribute("value").startsWith("room_"));
    browser.click("bridge-submit");
    WebElement box = browser.byTest("secret-box");
    assertThat(box.getText()).contains("shown once — copy it now");
    String secret = browser.byTest("secret-value").getText();
    assertThat(secret).startsWith("srb_");
    String bridgeId = browser.byTest("bridge-id").getText();
    browser.screenshot("bridge-created");

    // It is the bridge's real secret: it signs an inbound call.
    assertThat(node.postInbound(bridgeId, secret, TestNode.message("m-1", "U1", "hello")).await().statusCode()).isEqualTo(202);

    browser.click("secret-close");
    browser.waiting().until(ExpectedConditions.invisibilityOfElementLocated(testId("secret-box")));
    assertThat(pageSource()).doesNotContain(secret);
    browser.driver.navigate().refresh();
    browser.onPage("crm-inbound");
    assertThat(browser.all(testId("secret-box"))).isEmpty();
    assertThat(pageSource()).doesNotContain(secret);
    assertThat(browser.script("return JSON.stringify(sessionStorage)").toString()).doesNotContain(secret);

    browser.click("bridge-pause");
    browser.byId("bridge-resume");
    assertThat(browser.byTest("state").getText()).isEqualTo("paused");
    assertThat(admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId, null).bodyAsJsonObject().getBoolean("paused")).isTrue();
    browser.click("bridge-resume");
    browser.byId("bridge-pause");
    assertThat(browser.byTest("state").getText()).isEqualTo("active");
    assertThat(admin(HttpMethod.GET, "/v1/admin/bridges/" + bridgeId, null).bodyAsJsonObject().getBoolean("paused")).isFalse();

    browser.go("/#/bridges");
    browser.onPage("Bridges");
    WebElement row = browser.waiting().until(d -> d.findElements(testId("bridges-row")).stream()
        .filter(r -> r.getText().contains(bridgeId)).findFirst().orElse(null));
    assertThat(row.getText()).contains("custom", "inbound", "active");
    await().atMost(10, TimeUnit.SECONDS).until(() -> {
      browser.go("/#/room");
      browser.go("/#/bridges");
      return browser.waiting().until(d -> d.findElements(testId("bridges-row")).stream()
          .filter(r -> r.getText().contains(bridgeId)).findFirst().orElse(null))
          .findElement(testId("counter-inbound_accepted")).getText().equals("1");
    });
    browser.screenshot("bridges");
    assertThat(pageSource()).doesNotContain(secret);
  }

  @Test
  void rotatingABridgeSecretShowsTheNewOneOnceAndDeletingAsksFirst() {
    JsonObject room = node.createRoom("rotate");
    JsonObject bridge = node.createBridge(room.getString("room_id"), "inbound");
    String id = bridge.getString("bridge_id");
    signIn();
    browser.go("/#/bridges/" + id);
    browser.onPage("test bridge");
    assertThat(browser.all(testId("secret-box"))).isEmpty();
    browser.click("bridge-rotate");
    String secret = browser.byTest("secret-value").getText();
    assertThat(secret).startsWith("srb_").isNotEqualTo(bridge.getString("shared_secret"));
    assertThat(browser.byTest("secret-note").getText()).contains("keeps verifying inbound calls until");
    assertThat(node.postInbound(id, secret, TestNode.message("m-2", "U1", "rotated")).await().statusCode()).isEqualTo(202);

    browser.click("bridge-delete");
    browser.waiting().until(d -> d.switchTo().activeElement().getAttribute("id").equals("confirm-cancel"));
    new Actions(browser.driver).sendKeys(Keys.ESCAPE).perform();
    browser.waiting().until(d -> !browser.byId("bridge-delete").getText().isEmpty() && !(Boolean) browser.script("return document.getElementById('confirm').open"));
    assertThat(admin(HttpMethod.GET, "/v1/admin/bridges/" + id, null).statusCode()).isEqualTo(200);
    browser.click("bridge-delete");
    browser.click("confirm-ok");
    browser.onPage("Bridges");
    assertThat(admin(HttpMethod.GET, "/v1/admin/bridges/" + id, null).statusCode()).isEqualTo(404);
  }

  @Test
  void aWebhookDeliveryShowsOnItsDetailPageWithResponseCode200() {
    signIn();
    browser.go("/#/webhooks");
    browser.onPage("Webhooks");
    browser.click("new-webhook");
    browser.onPage("New webhook");
    browser.type("name", "audit-feed");
    browser.type("url", sink.url("/console-hook"));
    assertThat(browser.byId("events-ADMIN").isSelected()).isTrue();
    browser.byId("events-SECURITY").click();
    browser.type("headers", "Authorization: Bearer receiver-token");
    browser.click("webhook-submit");
    String secret = browser.byTest("secret-value").getText();
    assertThat(secret).startsWith("whsec_");
    browser.click("secret-close");
    String webhookId = browser.byTest("webhook-id").getText();

    // Its own creation is an ADMIN event; one more from the console: an application.
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.answeredOk("/console-hook").size() >= 1);
    assertThat(sink.received("/console-hook").get(0).headers().get("Authorization")).isEqualTo("Bearer receiver-token");
    browser.click("deliveries-refresh");
    WebElement delivered = browser.waiting().until(d -> d.findElements(testId("deliveries-row")).stream()
        .filter(r -> r.findElement(testId("delivery-status")).getText().equals("delivered")).findFirst().orElse(null));
    assertThat(delivered.findElement(testId("delivery-code")).getText()).isEqualTo("200");
    assertThat(delivered.findElement(testId("attempts")).getText()).contains("delivered", "HTTP 200", "ms");
    assertThat(browser.byTest("delivery-totals").getText()).contains("delivered 1");
    browser.screenshot("webhook-detail");

    browser.click("webhook-pause");
    browser.byId("webhook-resume");
    assertThat(admin(HttpMethod.GET, "/v1/admin/webhooks/" + webhookId, null).bodyAsJsonObject().getBoolean("paused")).isTrue();
    browser.click("webhook-resume");
    browser.byId("webhook-pause");
    browser.go("/#/webhooks");
    assertThat(browser.byTest("webhooks-row").getText()).contains("audit-feed", "ADMIN, SECURITY", "active");
  }

  @Test
  void aBadWebhookUrlShowsTheProblemDetailAndStatus() {
    JsonObject bad = new JsonObject().put("name", "bad").put("url", "ftp://example.com/hook").put("events", new JsonArray().add("ADMIN"));
    HttpResponse<Buffer> api = admin(HttpMethod.POST, "/v1/admin/webhooks", bad);
    assertThat(api.statusCode()).isEqualTo(400);
    String detail = api.bodyAsJsonObject().getString("detail");
    signIn();
    browser.go("/#/webhooks/new");
    browser.onPage("New webhook");
    browser.type("name", "bad");
    browser.type("url", "ftp://example.com/hook");
    browser.click("webhook-submit");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), detail));
    assertThat(error()).startsWith("400 Bad Request: ").endsWith(detail);
    assertThat(browser.byId("error").getAttribute("role")).isEqualTo("alert");
    browser.onPage("New webhook");
  }

  @Test
  void anApplicationShowsItsClientSecretOnceAndRotates() {
    signIn();
    browser.go("/#/applications");
    browser.onPage("Applications");
    browser.click("new-application");
    browser.onPage("New application");
    browser.type("name", "crm");
    browser.byId("scopes-rooms-read").click();
    browser.byId("scopes-rooms-write").click();
    browser.type("token_lifetime", "600");
    browser.type("redirect_uris", "http://127.0.0.1:9999/callback");
    browser.click("application-submit");
    browser.onPage("Applications");
    String secret = browser.byTest("secret-value").getText();
    assertThat(secret).startsWith("cs_");
    browser.screenshot("applications");
    WebElement row = browser.byTest("applications-row");
    String clientId = row.findElement(testId("client-id")).getText();
    assertThat(row.getText()).contains("crm", "rooms:read rooms:write", "600 s", "http://127.0.0.1:9999/callback");
    assertThat(clientCredentials(clientId, secret)).isEqualTo(200);

    browser.click("secret-close");
    browser.driver.navigate().refresh();
    browser.onPage("Applications");
    assertThat(browser.all(testId("secret-box"))).isEmpty();
    assertThat(pageSource()).doesNotContain(secret);

    browser.byTest("application-rotate").click();
    String rotated = browser.byTest("secret-value").getText();
    assertThat(rotated).startsWith("cs_").isNotEqualTo(secret);
    assertThat(browser.byTest("secret-note").getText()).contains("The old secret keeps working until");
    assertThat(clientCredentials(clientId, rotated)).isEqualTo(200);
    assertThat(clientCredentials(clientId, secret)).isEqualTo(200);
  }

  @Test
  void aWebhookIsEditedInPlaceAndClearingAFilterClearsIt() {
    JsonObject created = admin(HttpMethod.POST, "/v1/admin/webhooks", new JsonObject().put("name", "to-edit")
        .put("url", sink.url("/before")).put("events", new JsonArray().add("ADMIN"))
        .put("filters", new JsonObject().put("user_ids", new JsonArray().add("u-1")))
        .put("headers", new JsonObject().put("X-Tenant", "acme"))).bodyAsJsonObject();
    String id = created.getString("webhook_id");
    signIn();
    browser.go("/#/webhooks/" + id);
    browser.onPage("to-edit");
    browser.click("webhook-edit");
    browser.onPage("Edit to-edit");
    assertThat(browser.byId("user_ids").getAttribute("value")).isEqualTo("u-1");
    assertThat(browser.byId("headers").getAttribute("value")).isEqualTo("X-Tenant: acme");
    assertThat(browser.all(By.id("secret"))).as("PATCH cannot change the secret: no field for it").isEmpty();
    browser.type("name", "edited");
    browser.type("url", sink.url("/after"));
    browser.byId("events-SECURITY").click();
    browser.byId("user_ids").clear();
    browser.click("webhook-submit");
    browser.onPage("edited");

    JsonObject now = admin(HttpMethod.GET, "/v1/admin/webhooks/" + id, null).bodyAsJsonObject();
    assertThat(now.getString("url")).isEqualTo(sink.url("/after"));
    assertThat(now.getJsonArray("events").getList()).containsExactlyInAnyOrder("ADMIN", "SECURITY");
    assertThat(now.getJsonObject("filters").getJsonArray("user_ids", new JsonArray())).isEmpty();
    assertThat(now.getJsonObject("headers").getString("X-Tenant")).isEqualTo("acme");

    browser.click("webhook-edit");
    browser.onPage("Edit edited");
    browser.type("url", "ftp://not-a-webhook");
    browser.click("webhook-submit");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "400"));
    assertThat(admin(HttpMethod.GET, "/v1/admin/webhooks/" + id, null).bodyAsJsonObject().getString("url")).isEqualTo(sink.url("/after"));
  }

  @Test
  void anApplicationsScopesAndRedirectUrisAreEdited() {
    String clientId = admin(HttpMethod.POST, "/v1/admin/applications", new JsonObject().put("name", "editable")
        .put("scopes", new JsonArray().add("rooms:read")).put("redirect_uris", new JsonArray().add("https://a.example/cb")))
        .bodyAsJsonObject().getString("client_id");
    signIn();
    browser.go("/#/applications/" + clientId + "/edit");
    browser.onPage("Edit editable");
    assertThat(browser.byId("scopes-rooms-read").isSelected()).isTrue();
    assertThat(browser.byId("redirect_uris").getAttribute("value")).isEqualTo("https://a.example/cb");
    browser.byId("scopes-audit-read").click();
    browser.type("redirect_uris", "https://a.example/cb\nhttps://b.example/cb?x=1,2");
    browser.click("application-submit");
    browser.onPage("Applications");
    JsonObject now = admin(HttpMethod.GET, "/v1/admin/applications/" + clientId, null).bodyAsJsonObject();
    assertThat(now.getJsonArray("scopes").getList()).containsExactlyInAnyOrder("rooms:read", "audit:read");
    assertThat(now.getJsonArray("redirect_uris").getList()).containsExactly("https://a.example/cb", "https://b.example/cb?x=1,2");
  }

  @Test
  void aFailedDeliveryIsResentAndFailuresAreRecoveredFromTheLog() {
    AtomicBoolean fixed = new AtomicBoolean(false);
    sink.answer("/replayed", r -> TestSink.Answer.status(fixed.get() ? 200 : 404));
    String room = node.createRoom("replays").getString("room_id");
    String bridge = admin(HttpMethod.POST, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", room).put("name", "replayed").put("outbound_webhook", sink.url("/replayed"))).bodyAsJsonObject().getString("bridge_id");
    for (String text : List.of("first", "second")) {
      node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + room + "/events"), new JsonObject().put("sender", "agent-7")
          .put("content", new JsonObject().put("msgtype", "swp.text").put("body", text)));
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> node.queryValue(
        "SELECT count(*) FROM deliveries WHERE target_id = $1 AND status = 'failed'", bridge).equals(2L));
    fixed.set(true);

    signIn();
    browser.go("/#/bridges/" + bridge);
    browser.onPage("replayed");
    assertThat(browser.all(testId("delivery-resend"))).hasSize(2);
    browser.byTest("delivery-resend").click();
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("deliveries-notice"), "queued again as delivery"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.answeredOk("/replayed").size() == 1);

    browser.click("recover-submit");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("deliveries-notice"), "Recovered"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.answeredOk("/replayed").size() == 2);
    assertThat(browser.byId("deliveries-notice").getText()).isEqualTo("Recovered 1 failed delivery.");
    assertThat(sink.answeredOk("/replayed").stream().map(r -> r.json().getJsonObject("content").getString("body")))
        .as("the resend of the newest row, then the recovery of the failure not yet repeated").containsExactly("second", "first");
  }

  @Test
  void longListsOfApplicationsPageNewestFirst() {
    for (int i = 0; i < 27; i++) {
      admin(HttpMethod.POST, "/v1/admin/applications", new JsonObject().put("name", "paged-" + i)
          .put("scopes", new JsonArray().add("rooms:read")));
    }
    int total = admin(HttpMethod.GET, "/v1/admin/applications", null).bodyAsJsonObject().getJsonArray("applications").size();
    signIn();
    browser.go("/#/applications");
    browser.onPage("Applications");
    assertThat(browser.all(testId("applications-row"))).hasSize(25);
    assertThat(browser.all(testId("application-name")).get(0).getText()).isEqualTo("paged-26");
    assertThat(browser.byTest("applications-pages-prev").isEnabled()).isFalse();
    browser.byTest("applications-pages-next").click();
    browser.waiting().until(d -> d.findElements(testId("applications-row")).size() == total - 25);
    assertThat(browser.byTest("applications-pages-next").isEnabled()).isFalse();
    browser.byTest("applications-pages-prev").click();
    browser.waiting().until(d -> d.findElements(testId("applications-row")).size() == 25);
  }

  private static int clientCredentials(String clientId, String secret) {
    return node.request(HttpMethod.POST, "/oauth/token").basicAuthentication(clientId, secret)
        .putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer("grant_type=client_credentials")).await().statusCode();
  }

  @Test
  void anApiKeyIsShownOnceWorksAndIsRevoked() {
    signIn();
    browser.go("/#/api-keys");
    browser.onPage("API keys");
    browser.type("key-name", "ci-script");
    browser.byId("key-scopes-bridges-read").click();
    browser.click("api-key-submit");
    String key = browser.byTest("secret-value").getText();
    assertThat(key).startsWith("sak_");
    assertThat(browser.byTest("api-keys-row").getText()).contains("ci-script", "bridges:read");
    HttpResponse<Buffer> withKey = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges").putHeader("Authorization", "Bearer " + key), null);
    assertThat(withKey.statusCode()).isEqualTo(200);

    browser.byTest("api-key-revoke").click();
    browser.click("confirm-ok");
    browser.byTest("api-keys-empty");
    HttpResponse<Buffer> revoked = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges").putHeader("Authorization", "Bearer " + key), null);
    assertThat(revoked.statusCode()).isEqualTo(401);
  }

  @Test
  void theAuditLogFiltersByCategoryAndActionNewestFirst() {
    String room = node.createRoom("audit").getString("room_id");
    String first = node.createBridge(room, "inbound").getString("bridge_id");
    String second = node.createBridge(room, "inbound").getString("bridge_id");
    assertThat(admin(HttpMethod.POST, "/v1/admin/bridges/" + first + "/pause", null).statusCode()).isEqualTo(200);
    signIn();
    browser.go("/#/audit");
    browser.onPage("Audit log");
    new org.openqa.selenium.support.ui.Select(browser.byId("audit-category")).selectByValue("ADMIN");
    browser.type("audit-action", "bridge.created");
    browser.click("audit-apply");
    browser.waiting().until(d -> d.findElements(testId("audit-row")).stream()
        .allMatch(r -> r.findElement(testId("audit-action")).getText().equals("bridge.created")));
    List<String> resources = browser.all(testId("audit-resource")).stream().map(WebElement::getText).toList();
    List<String> expected = new ArrayList<>(admin(HttpMethod.GET, "/v1/admin/audit?category=ADMIN&action=bridge.created&limit=1000", null)
        .bodyAsJsonObject().getJsonArray("events").stream().map(e -> ((JsonObject) e).getString("resource_id")).toList());
    java.util.Collections.reverse(expected);
    assertThat(resources).isEqualTo(expected);
    assertThat(resources.indexOf(second)).isLessThan(resources.indexOf(first));
    browser.screenshot("audit");

    browser.type("audit-action", "bridge.paused");
    browser.click("audit-apply");
    browser.waiting().until(d -> {
      List<WebElement> rows = d.findElements(testId("audit-resource"));
      return rows.size() == 1 && rows.get(0).getText().equals(first);
    });
    new org.openqa.selenium.support.ui.Select(browser.byId("audit-category")).selectByValue("SECURITY");
    browser.click("audit-apply");
    browser.byTest("audit-empty");
  }

  @Test
  void atPhoneWidthTheNavCollapsesAndNothingOverflowsSideways() {
    String room = node.createRoom("phone").getString("room_id");
    String id = node.createBridge(room, "both").getString("bridge_id");
    signIn();
    browser.resize(390, 844);
    browser.go("/#/bridges");
    browser.onPage("Bridges");
    WebElement toggle = browser.byId("nav-toggle");
    WebElement webhooks = browser.find("nav").findElement(By.cssSelector("a[href='#/webhooks']"));
    assertThat(webhooks.isDisplayed()).isFalse();
    toggle.click();
    browser.waiting().until(ExpectedConditions.visibilityOf(webhooks));
    assertThat(toggle.getAttribute("aria-expanded")).isEqualTo("true");
    browser.screenshot("phone");
    assertNoSidewaysOverflow();
    new Actions(browser.driver).sendKeys(Keys.ESCAPE).perform();
    browser.waiting().until(ExpectedConditions.invisibilityOf(webhooks));

    browser.go("/#/bridges/" + id);
    browser.onPage("test bridge");
    assertNoSidewaysOverflow();
    browser.go("/#/audit");
    browser.onPage("Audit log");
    browser.byTest("audit");
    assertNoSidewaysOverflow();
  }

  private static void assertNoSidewaysOverflow() {
    Object widths = browser.script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]");
    List<?> w = (List<?>) widths;
    long scroll = ((Number) w.get(0)).longValue();
    long client = ((Number) w.get(1)).longValue();
    assertThat(scroll).as("page width %s within the viewport %s", scroll, client).isLessThanOrEqualTo(client);
    assertThat(((Number) w.get(2)).longValue()).isLessThanOrEqualTo(client);
  }

  @Test
  void anUnknownBridgeShowsTheNodesNotFoundDetail() {
    signIn();
    browser.go("/#/bridges/brg_doesnotexist");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "404"));
    assertThat(error()).isEqualTo("404 Not Found: no bridge brg_doesnotexist");
  }

  /** the challenge is base64url(SHA-256(verifier)); the bundled SHA-256 agrees with Java's. */
  @Test
  void theBundledSha256MatchesJavasOnEveryBlockBoundary() throws Exception {
    for (String text : new String[] {"", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "ü€".repeat(300),
        "dBjftJeZ4CVP-mJ0QFZPSxd9NrY6sDsEhZT0-NAmL8k"}) {
      Object got = browser.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
          + "Promise.all([import('/console/sha256.js'), import('/console/api.js')])"
          + ".then(([s, a]) => done(a.base64url(s.sha256(new TextEncoder().encode(arguments[0])))))", text);
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(got).as("length %s", text.length()).isEqualTo(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(digest));
    }
  }
}
