package com.scairelay.console;

import com.scairelay.support.Browser;
import com.scairelay.support.TestNode;

/** What every console test does with its browser tab: start signed out, and sign in with the admin token. */
final class ConsoleTab {
  private ConsoleTab() {
  }

  /** A tab at 1280×800 with nothing in its session storage, on the sign-in page. */
  static void signedOut(Browser browser) {
    browser.resize(1280, 800);
    browser.go("/");
    browser.script("sessionStorage.clear()");
    browser.go("/#/signin");
    browser.driver.navigate().refresh();
    browser.onPage("Sign in");
  }

  static void signIn(Browser browser) {
    browser.type("signin-token", TestNode.ADMIN_TOKEN);
    browser.click("signin-submit");
    browser.onPage("Bridges");
  }
}
