package com.scairelay.console;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.util.concurrent.TimeUnit;

import static com.scairelay.support.Browser.testId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console's flows that reach past its own pages: signing in through the consent page as the
 * built-in {@code console} client (PKCE), a refusal on that page, the room stream opened with the
 * token as a subprotocol entry, the bridge list's delivery counters, and the webhook test event.
 */
class ConsoleFlowsTest extends ConsoleTest {
  /** PKCE through the consent page, back to the console with a token of its own. */
  @Test
  void signingInThroughTheConsentPageGivesTheConsoleItsOwnToken() {
    browser.click("signin-oauth");
    browser.waiting().until(ExpectedConditions.urlContains("/oauth/authorize?"));
    String authorize = browser.driver.getCurrentUrl();
    assertThat(authorize).contains("client_id=console", "code_challenge_method=S256", "response_type=code",
        "redirect_uri=" + java.net.URLEncoder.encode("http://127.0.0.1:" + node.port() + "/", java.nio.charset.StandardCharsets.UTF_8));
    browser.byId("allow");
    browser.screenshot("consent");
    browser.type("token", TestNode.ADMIN_TOKEN);
    browser.click("allow");
    browser.onPage("Bridges");
    String token = String.valueOf(browser.script("return sessionStorage.getItem('scairelay.token')"));
    assertThat(token).isNotEqualTo(TestNode.ADMIN_TOKEN).matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+");
    assertThat(browser.driver.getCurrentUrl()).doesNotContain("code=").doesNotContain("state=");
    assertThat(browser.script("return sessionStorage.getItem('scairelay.pkce.verifier')")).isNull();
    HttpResponse<Buffer> withIt = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges").putHeader("Authorization", "Bearer " + token), null);
    assertThat(withIt.statusCode()).isEqualTo(200);
  }

  /** denying on the consent page brings the reader back with the refusal shown. */
  @Test
  void denyingOnTheConsentPageShowsTheRefusal() {
    browser.click("signin-oauth");
    browser.waiting().until(ExpectedConditions.urlContains("/oauth/authorize?"));
    browser.click("deny");
    browser.onPage("Sign in");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "access_denied"));
    assertThat(browser.script("return sessionStorage.getItem('scairelay.token')")).isNull();
  }

  /** the button queues one webhook.test event, and its delivery shows with 200. */
  @Test
  void sendTestEventDeliversAndShowsOnTheWebhooksPage() {
    JsonObject created = admin(HttpMethod.POST, "/v1/admin/webhooks", new JsonObject().put("name", "tested")
        .put("url", sink.url("/tested")).put("events", new JsonArray().add("COMPLIANCE"))).bodyAsJsonObject();
    signIn();
    browser.go("/#/webhooks/" + created.getString("webhook_id"));
    browser.onPage("tested");
    browser.click("webhook-test");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("webhook-notice"), "queued as delivery"));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.answeredOk("/tested").size() == 1);
    assertThat(sink.received("/tested").get(0).json().getString("action")).isEqualTo("webhook.test");
    browser.click("deliveries-refresh");
    WebElement row = browser.waiting().until(d -> d.findElements(testId("deliveries-row")).stream()
        .filter(r -> r.findElement(testId("delivery-status")).getText().equals("delivered")).findFirst().orElse(null));
    assertThat(row.findElement(testId("delivery-code")).getText()).isEqualTo("200");
  }

  /** the stream takes the token as a subprotocol; events arrive as they are posted. */
  @Test
  void theLiveRoomShowsEventsAsTheyArrive() {
    String room = node.createRoom("live").getString("room_id");
    signIn();
    browser.go("/#/room");
    browser.onPage("Live room");
    browser.type("room-id", room);
    browser.click("room-connect");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("room-status"), "Live"));
    browser.type("room-message", "typed in the console");
    browser.click("room-send");
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("room-events"), "typed in the console"));
    node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + room + "/events"), new JsonObject().put("sender", "agent-7")
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "from the API")));
    browser.waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("room-events"), "from the API"));
    assertThat(browser.all(testId("room-event"))).hasSize(2);
    browser.screenshot("live-room");
  }

  /** the list shows delivered, failed and queued from the delivery log. */
  @Test
  void theBridgeListShowsDeliveryCounters() {
    String room = node.createRoom("counted").getString("room_id");
    JsonObject bridge = admin(HttpMethod.POST, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "outbound")
        .put("room_id", room).put("name", "counted").put("outbound_webhook", sink.url("/counted"))).bodyAsJsonObject();
    node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + room + "/events"), new JsonObject().put("sender", "agent-7")
        .put("content", new JsonObject().put("msgtype", "swp.text").put("body", "count me")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.answeredOk("/counted").size() == 1);
    signIn();
    WebElement row = browser.waiting().until(d -> d.findElements(testId("bridges-row")).stream()
        .filter(r -> r.getText().contains(bridge.getString("bridge_id"))).findFirst().orElse(null));
    assertThat(row.findElement(testId("counter-delivered")).getText()).isEqualTo("1");
    assertThat(row.findElement(testId("counter-failed")).getText()).isEqualTo("0");
    assertThat(row.findElement(testId("counter-queued")).getText()).isEqualTo("0");
  }
}
