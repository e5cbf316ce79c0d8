package com.scairelay.auth;

import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collection;
import java.util.regex.Pattern;

/**
 * The HTML of {@code /oauth/authorize}: the sign-in and consent page, and the page that says a sign-in
 * link is not valid. Every value is HTML-escaped; nothing inline runs (the CSP forbids it), and the
 * pages read well without the console's stylesheet.
 */
final class ConsentPage {
  private static final String CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
      + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  private static final Pattern CSP_HOST = Pattern.compile("[A-Za-z0-9.-]+");
  private static final Pattern CSP_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");

  private ConsentPage() {
  }

  /** What the consent form posts back: the request, as validated, and the error to show, if any. */
  record Form(String applicationName, String clientId, String redirectUri, String state, String codeChallenge,
              Collection<String> scopes, Collection<String> checked, String error) {
  }

  /**
   * Writes a page with the security headers. {@code redirectUri} (trusted: registered) widens
   * {@code form-action} by its origin: browsers hold the redirect that answers a form post to it.
   */
  static void write(RoutingContext ctx, int status, String html, String redirectUri) {
    if (ctx.response().ended() || ctx.response().headWritten()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Content-Security-Policy", redirectUri == null ? CSP : CSP + formTarget(redirectUri))
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Cache-Control", "no-store")
        .end(html);
  }

  /** The 303 to the client's redirect URI, with the same headers (the code must not leak through a Referer). */
  static void redirect(RoutingContext ctx, String location) {
    if (ctx.response().ended() || ctx.response().headWritten()) {
      return;
    }
    ctx.response().setStatusCode(303).putHeader("Location", location)
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cache-Control", "no-store")
        .end();
  }

  static String consent(Form form) {
    StringBuilder html = head("Sign in to " + form.applicationName());
    html.append("<main class=\"consent\">\n<h1>Sign in to grant access</h1>\n<p><strong id=\"application\">")
        .append(escape(form.applicationName())).append("</strong> (").append(escape(form.clientId()))
        .append(") asks for access to this relay. It will be sent back to <code id=\"redirect-uri\">")
        .append(escape(form.redirectUri())).append("</code>.</p>\n");
    if (form.error() != null) {
      html.append("<p id=\"error\" class=\"error\" role=\"alert\">").append(escape(form.error())).append("</p>\n");
    }
    html.append("<form method=\"post\" action=\"/oauth/authorize\">\n");
    hidden(html, "response_type", "code");
    hidden(html, "client_id", form.clientId());
    hidden(html, "redirect_uri", form.redirectUri());
    if (form.state() != null) {
      hidden(html, "state", form.state());
    }
    hidden(html, "code_challenge", form.codeChallenge());
    hidden(html, "code_challenge_method", Pkce.S256);
    hidden(html, "offered", String.join(" ", form.scopes()));
    html.append("<fieldset>\n<legend>Scopes to grant</legend>\n");
    for (String scope : form.scopes()) {
      String id = "scope-" + escape(scope);
      html.append("<div><input type=\"checkbox\" name=\"scope\" id=\"").append(id).append("\" value=\"").append(escape(scope)).append('"')
          .append(form.checked().contains(scope) ? " checked" : "").append("> <label for=\"").append(id).append("\">")
          .append(escape(scope)).append("</label></div>\n");
    }
    html.append("</fieldset>\n<p><label for=\"token\">Sign in with your admin token, API key, or access token</label><br>\n")
        .append("<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" autofocus></p>\n")
        .append("<p>The application gets only the scopes you check that your own token has.</p>\n")
        .append("<p><button type=\"submit\" id=\"allow\" name=\"decision\" value=\"allow\">Allow</button>\n")
        .append("<button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></p>\n</form>\n</main>\n");
    return html.append("</body>\n</html>\n").toString();
  }

  static String error(String message) {
    StringBuilder html = head("Sign-in link not valid");
    html.append("<main class=\"consent\">\n<h1>This sign-in link is not valid</h1>\n<p id=\"error\" class=\"error\" role=\"alert\">")
        .append(escape(message)).append("</p>\n<p>Nothing was granted. Go back to the application and sign in again; ")
        .append("if this persists, its registration on this relay needs fixing.</p>\n</main>\n</body>\n</html>\n");
    return html.toString();
  }

  static String escape(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(value.length() + 16);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static StringBuilder head(String title) {
    return new StringBuilder(2048).append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"referrer\" content=\"no-referrer\">\n")
        .append("<title>").append(escape(title)).append(" · ScaiRelay</title>\n")
        .append("<link rel=\"stylesheet\" href=\"/console/console.css\">\n</head>\n<body>\n");
  }

  private static void hidden(StringBuilder html, String name, String value) {
    html.append("<input type=\"hidden\" name=\"").append(name).append("\" value=\"").append(escape(value)).append("\">\n");
  }

  /** {@code " <origin>"} of a registered redirect URI, or {@code ""} when it cannot be written as a CSP source. */
  private static String formTarget(String redirectUri) {
    try {
      URI uri = new URI(redirectUri);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (scheme.contains(".") && CSP_SCHEME.matcher(scheme).matches()) {
        return " " + scheme + ":"; // a native app's private-use scheme (RFC 8252: a reversed domain name)
      }
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || !CSP_HOST.matcher(uri.getHost()).matches()) {
        return "";
      }
      return " " + scheme + "://" + uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
    } catch (URISyntaxException e) {
      return "";
    }
  }
}
