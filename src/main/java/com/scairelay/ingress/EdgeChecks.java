package com.scairelay.ingress;

import com.scairelay.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * What no route can take is refused before any route runs, with a short 400 or 415: a path or query
 * whose %-escapes are malformed or not UTF-8, a NUL or other control character in either (PostgreSQL
 * cannot store it, and it is never a real id or value), and a form or multipart body anywhere but the
 * token endpoint and the consent page, the only routes that read a form.
 */
final class EdgeChecks implements Handler<RoutingContext> {
  private static final Set<HttpMethod> BODY_METHODS = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH);
  private static final Set<String> FORM_PATHS = Set.of("/oauth/token", "/oauth/authorize");

  @Override
  public void handle(RoutingContext ctx) {
    String uri = ctx.request().uri();
    int question = uri.indexOf('?');
    check(question < 0 ? uri : uri.substring(0, question), "path");
    if (question >= 0) {
      check(uri.substring(question + 1), "query");
    }
    if (BODY_METHODS.contains(ctx.request().method()) && isForm(ctx.request().getHeader("Content-Type"))
        && !FORM_PATHS.contains(ctx.request().path())) {
      throw new ProblemException(415, "Unsupported Media Type", "this endpoint takes application/json, not a form");
    }
    ctx.next();
  }

  static boolean isForm(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = contentType.toLowerCase();
    return type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/");
  }

  /** Decodes {@code raw} strictly: every %-escape two hex digits, the bytes UTF-8, no control character. */
  private static void check(String raw, String part) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          throw ProblemException.badRequest("the " + part + " has a malformed %-escape");
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    String decoded;
    try {
      decoded = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw ProblemException.badRequest("the " + part + " has a %-escape that is not UTF-8");
    }
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      if (c == 0) {
        throw ProblemException.badRequest("the " + part + " has a NUL character");
      }
      if (c < 0x20 || c == 0x7f) {
        throw ProblemException.badRequest("the " + part + " has a control character");
      }
    }
  }
}
