package com.scairelay.auth;

import io.netty.handler.codec.DecoderException;
import io.vertx.ext.web.RoutingContext;

/**
 * The form bodies of the OAuth endpoints. Vert.x decodes a form body as it ends and fails the request,
 * before the route's handler runs, when a %-escape in it is malformed (Netty's {@code DecoderException}
 * or an {@code IllegalArgumentException}, depending on where the bad escape is): that is the client's
 * error, answered the endpoint's own way, not a 500 with a stack trace in the log.
 */
final class FormBody {
  private static final String READ = "oauth.form_read";

  private FormBody() {
  }

  /** The handler got the form: a failure after this is not the form's. */
  static void read(RoutingContext ctx) {
    ctx.put(READ, true);
  }

  /** Whether the request failed because its form body could not be decoded. */
  static boolean undecodable(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    return ctx.get(READ) == null && (failure instanceof IllegalArgumentException || failure instanceof DecoderException);
  }
}
