package com.scairelay.auth;

import com.scairelay.http.ProblemException;
import io.vertx.core.http.HttpServerRequest;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The credentials of a request: its {@code Authorization} header, or, for a WebSocket upgrade without
 * one, the token a browser offers as the subprotocol {@code bearer.<base64url(utf8(token))>} (a
 * browser's {@code new WebSocket(url, protocols)} cannot set headers). The server never selects that
 * entry (its WebSocket subprotocols are only {@code scairelay.v1}), so it is never echoed.
 */
final class StreamBearer {
  static final String PREFIX = "bearer.";
  private static final String MALFORMED = "the Sec-WebSocket-Protocol entry 'bearer.…' must be the token as"
      + " base64url (RFC 4648 §5) of its UTF-8 bytes, without padding";

  private StreamBearer() {
  }

  /**
   * The {@code Authorization} header as given; without one, {@code Bearer <token>} from a WebSocket
   * upgrade's {@code bearer.} subprotocol entry; null when neither is there.
   *
   * @throws ProblemException 401 when the entry is malformed or given twice (before any upgrade)
   */
  static String authorization(HttpServerRequest request) {
    String header = request.getHeader("Authorization");
    if (header != null || !"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
      return header;
    }
    String encoded = null;
    for (String line : request.headers().getAll("Sec-WebSocket-Protocol")) {
      for (String entry : line.split(",")) {
        String protocol = entry.trim();
        if (!protocol.startsWith(PREFIX)) {
          continue;
        }
        if (encoded != null) {
          throw ProblemException.unauthorized("Sec-WebSocket-Protocol offers more than one 'bearer.…' entry; offer one");
        }
        encoded = protocol.substring(PREFIX.length());
      }
    }
    return encoded == null ? null : "Bearer " + decode(encoded);
  }

  private static String decode(String encoded) {
    if (encoded.isEmpty() || encoded.indexOf('=') >= 0) {
      throw ProblemException.unauthorized(MALFORMED);
    }
    try {
      byte[] raw = Base64.getUrlDecoder().decode(encoded);
      String token = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw)).toString();
      if (token.isBlank()) {
        throw ProblemException.unauthorized(MALFORMED);
      }
      return token;
    } catch (IllegalArgumentException | CharacterCodingException e) {
      throw ProblemException.unauthorized(MALFORMED);
    }
  }
}
