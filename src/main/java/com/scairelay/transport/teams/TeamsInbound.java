package com.scairelay.transport.teams;

import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.transport.Hmac;
import com.scairelay.transport.Inbound;
import com.scairelay.transport.InboundAdapter;
import com.scairelay.transport.InboundBridge;
import com.scairelay.transport.InboundContext;
import com.scairelay.transport.InboundEvent;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.Optional;

/**
 * {@code POST /v1/bridges/{id}/teams/messages}: a Teams outgoing webhook. Teams posts a message
 * activity when someone @mentions the webhook in a channel of the team, signed with
 * {@code Authorization: HMAC <base64 HMAC-SHA256(base64-decoded security token, raw body)>}, and shows
 * the message activity we answer within 5 s as the webhook's reply in the thread. The activity becomes
 * a room event: deduplicated by the activity id (which is also the Teams message id), sent by the
 * shadow of {@code from}, its text without the mention, threaded under the root of a channel thread.
 */
final class TeamsInbound implements InboundAdapter {
  static final String PATH = "teams/messages";
  /** What the webhook answers in the channel once a message is stored: short, so the thread stays readable. */
  static final String RELAYED = "✓ relayed";
  private static final String SCHEME = "HMAC ";
  private static final int MAX_ID = 255;


  @Override
  public String path() {
    return PATH;
  }

  /**
   * The HMAC of the raw body with the bridge's outgoing-webhook token, compared in constant time; then,
   * since Teams signs no time, the activity's own (signed) {@code timestamp} must be within
   * {@code tolerance} of the node's clock, so a recorded request cannot be replayed later.
   */
  @Override
  public Optional<String> verify(MultiMap headers, Buffer body, InboundBridge bridge, Instant now, Duration tolerance) {
    byte[] key = secret(bridge);
    if (key == null) {
      return Optional.of("the bridge has no valid " + TeamsConnector.OUTGOING_SECRET);
    }
    String header = headers.get("Authorization");
    if (header == null || header.isBlank()) {
      return Optional.of("the Authorization header is missing");
    }
    String value = header.strip();
    byte[] presented = null;
    if (value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      try {
        presented = Base64.getDecoder().decode(value.substring(SCHEME.length()).strip());
      } catch (IllegalArgumentException notBase64) {
        presented = null;
      }
    }
    if (presented == null || presented.length != 32) {
      return Optional.of("the Authorization header is malformed: expected HMAC <base64 HMAC-SHA256 of the body>");
    }
    if (!MessageDigest.isEqual(Hmac.sha256(key, body.getBytes()), presented)) {
      return Optional.of("the HMAC does not match the body with the bridge's " + TeamsConnector.OUTGOING_SECRET);
    }
    Instant sent = timestamp(body);
    if (sent != null && Duration.between(sent, now).abs().compareTo(tolerance) > 0) {
      return Optional.of("the activity's timestamp is more than " + tolerance.toSeconds() + " s away from the node's clock");
    }
    return Optional.empty();
  }

  @Override
  public Future<Inbound> read(MultiMap headers, Buffer body, InboundBridge bridge, InboundContext context) {
    try {
      return Future.succeededFuture(read(JsonBody.parse(body)));
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
  }

  private static Inbound read(JsonObject activity) {
    String type = JsonBody.optionalString(activity, "type", 64);
    if (!"message".equals(type)) {
      return new Inbound.Reply(200, reply("not relayed: only message activities are bridged"));
    }
    String id = JsonBody.requiredString(activity, "id", MAX_ID);
    JsonObject from = JsonBody.requiredObject(activity, "from");
    String fromId = JsonBody.requiredString(from, "from.id", MAX_ID);
    String fromName = JsonBody.optionalString(from, "from.name", MAX_ID);
    String text = ActivityText.plain(activity);
    if (text.isEmpty()) {
      return new Inbound.Reply(200, reply("not relayed: the message has no text besides the mention"));
    }
    JsonObject content = new JsonObject().put("msgtype", "swp.text").put("body", text);
    String threadId = ActivityText.threadRoot(activity, id);
    return Inbound.store(new InboundEvent(id, InboundEvent.sender(fromId, fromName, null), fromId, fromName, null, content,
        threadId, null, id));
  }

  /** Teams shows the answer as the webhook's reply: a message activity, for a new message and a repeated one alike. */
  @Override
  public Inbound.Reply stored(String eventId, boolean duplicate) {
    return new Inbound.Reply(200, reply(RELAYED));
  }

  static JsonObject reply(String text) {
    return new JsonObject().put("type", "message").put("text", text);
  }

  /** The security token as key bytes; null when the bridge has none or it is not base64. */
  private static byte[] secret(InboundBridge bridge) {
    Object token = bridge.credentials().getValue(TeamsConnector.OUTGOING_SECRET);
    if (!(token instanceof String s)) {
      return null;
    }
    try {
      byte[] key = Base64.getDecoder().decode(s);
      return key.length == 0 ? null : key;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The activity's {@code timestamp}, when the body is a JSON object that has a readable one. */
  private static Instant timestamp(Buffer body) {
    try {
      Object value = body.toJsonObject().getValue("timestamp");
      return value instanceof String s ? OffsetDateTime.parse(s).toInstant() : null;
    } catch (RuntimeException unreadable) { // not JSON, or no ISO time: read() answers what is wrong with the body
      return null;
    }
  }
}
