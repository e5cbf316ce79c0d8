package com.scairelay.console;

import com.scairelay.support.Browser;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestSink;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.util.Map;

/**
 * What every console test class shares: a node that may deliver to loopback, a receiver on loopback,
 * one browser tab on the node, started signed out before each test. Test classes run one at a time, so
 * each class's {@link BeforeAll} gives these fields its own node and browser.
 */
abstract class ConsoleTest {
  static TestNode node;
  static TestSink sink;
  static Browser browser;

  @BeforeAll
  static void start() {
    node = TestNode.start(Map.of("RELAY_OUTBOUND_ALLOW_LOOPBACK", "true"));
    sink = TestSink.start(node.vertx);
    browser = Browser.open("http://127.0.0.1:" + node.port());
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    sink.close();
    node.close();
  }

  /** A tab at 1280×800 with nothing in its session storage, on the sign-in page. */
  @BeforeEach
  void freshTab() {
    browser.resize(1280, 800);
    browser.go("/");
    browser.script("sessionStorage.clear()");
    browser.go("/#/signin");
    browser.driver.navigate().refresh();
    browser.onPage("Sign in");
  }

  static void signIn() {
    browser.type("signin-token", TestNode.ADMIN_TOKEN);
    browser.click("signin-submit");
    browser.onPage("Bridges");
  }

  static HttpResponse<Buffer> admin(HttpMethod method, String path, JsonObject body) {
    return node.send(node.admin(method, path), body);
  }
}
