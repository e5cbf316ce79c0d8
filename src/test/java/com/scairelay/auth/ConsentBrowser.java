package com.scairelay.auth;

import com.scairelay.support.TestNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a browser does with the consent page, without a browser: GET the page, read its form from the
 * HTML (hidden fields and checked boxes), post it back, and read where the 303 sends it.
 */
final class ConsentBrowser {
  private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");
  private static final Pattern CHECKBOX = Pattern.compile("<input type=\"checkbox\" name=\"scope\" id=\"[^\"]*\" value=\"([^\"]*)\"( checked)?>");

  private final TestNode node;

  ConsentBrowser(TestNode node) {
    this.node = node;
  }

  static String verifier() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(com.scairelay.store.Ids.randomBytes(32));
  }

  static String challenge(String verifier) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The usual parameters of an authorization request; tests change or drop some (a null value drops it). */
  static Map<String, String> request(String clientId, String redirectUri, String scope, String state, String challenge) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("response_type", "code");
    params.put("client_id", clientId);
    params.put("redirect_uri", redirectUri);
    params.put("scope", scope);
    params.put("state", state);
    params.put("code_challenge", challenge);
    params.put("code_challenge_method", "S256");
    return params;
  }

  HttpResponse<Buffer> get(Map<String, String> params) {
    return node.request(HttpMethod.GET, "/oauth/authorize?" + encode(params)).followRedirects(false).send().await();
  }

  /** The form the page would post: its hidden fields and the boxes checked. */
  static MultiMap form(String html) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap();
    Matcher hidden = HIDDEN.matcher(html);
    while (hidden.find()) {
      form.add(unescape(hidden.group(1)), unescape(hidden.group(2)));
    }
    Matcher box = CHECKBOX.matcher(html);
    while (box.find()) {
      if (box.group(2) != null) {
        form.add("scope", unescape(box.group(1)));
      }
    }
    return form;
  }

  HttpResponse<Buffer> post(MultiMap form) {
    StringBuilder body = new StringBuilder();
    form.forEach(e -> body.append(body.length() == 0 ? "" : "&").append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
        .append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)));
    return node.request(HttpMethod.POST, "/oauth/authorize").followRedirects(false)
        .putHeader("Content-Type", "application/x-www-form-urlencoded").sendBuffer(Buffer.buffer(body.toString())).await();
  }

  /** Shows the page, signs in with {@code token}, and answers the POST's response ({@code decision} allow or deny). */
  HttpResponse<Buffer> signIn(Map<String, String> params, String token, String decision) {
    HttpResponse<Buffer> page = get(params);
    if (page.statusCode() != 200) {
      throw new AssertionError("the consent page answered " + page.statusCode() + ": " + page.bodyAsString());
    }
    MultiMap form = form(page.bodyAsString());
    form.set("token", token);
    form.set("decision", decision);
    return post(form);
  }

  /** The query parameters of a 303's Location. */
  static Map<String, String> query(String location) {
    Map<String, String> params = new LinkedHashMap<>();
    String raw = URI.create(location).getRawQuery();
    for (String pair : raw == null ? new String[0] : raw.split("&")) {
      int eq = pair.indexOf('=');
      params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return params;
  }

  static String encode(Map<String, String> params) {
    StringBuilder out = new StringBuilder();
    params.forEach((k, v) -> {
      if (v != null) {
        out.append(out.length() == 0 ? "" : "&").append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
      }
    });
    return out.toString();
  }

  private static String unescape(String html) {
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
  }
}
