package com.scairelay.transport.teams;

import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.store.Fqids;
import com.scairelay.transport.Connector;
import com.scairelay.transport.Delivery;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.InboundAdapter;
import com.scairelay.transport.OutboundGuard;
import com.scairelay.transport.Outcome;
import com.scairelay.transport.Pacer;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Transport {@code teams}. Outbound, every event is posted as an Adaptive Card to a Power Automate
 * Workflows webhook trigger ({@code teams_webhook_url}, a URL that carries its own signature, so it is
 * kept with the credentials and only its origin is shown), at most one post per {@code teams.pace_ms}
 * per URL. A workflow cannot change a post it made: an edit is posted as a new card marked edited, a
 * delete sends nothing. Inbound, a Teams outgoing webhook ({@code teams_outgoing_secret}) posts the
 * messages that @mention it: see {@link TeamsInbound}.
 */
public final class TeamsConnector implements Connector {
  public static final String NAME = "teams";
  static final String WEBHOOK_URL = "teams_webhook_url";
  static final String OUTGOING_SECRET = "teams_outgoing_secret";
  /** What the admin API shows of the webhook URL: scheme, host and port, never the path or the signature. */
  static final String WEBHOOK_ORIGIN = "teams_webhook_origin";
  static final String DELETE_NOTE = "a delete cannot be applied through a Teams workflow: nothing was sent";
  /** Teams shows a 44-character token (32 bytes); fewer than this is not one. */
  private static final int MIN_SECRET_BYTES = 16;
  /**
   * A 2xx whose body says the post was throttled: the retired Office 365 connector answered HTTP 200
   * with "Microsoft Teams endpoint returned HTTP error 429 …", and a proxy in front of a workflow may too.
   */
  private static final Pattern THROTTLED = Pattern.compile("(?i)\\b429\\b|throttl|too many requests");

  private final OutboundGuard guard;
  private final Pacer pacer;
  private final TeamsInbound inbound = new TeamsInbound();

  /** {@code pace}: the least time between two posts to one workflow URL ({@code teams.pace_ms}). */
  public TeamsConnector(OutboundGuard guard, Duration pace) {
    this.guard = guard;
    this.pacer = new Pacer(pace.toMillis());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean servesBridges() {
    return true;
  }

  @Override
  public Future<BridgeSetup> setUpBridge(JsonObject request, boolean sendsOutbound, boolean acceptsInbound, HttpSender sender) {
    try {
      JsonObject config = new JsonObject();
      JsonObject credentials = new JsonObject();
      webhookUrl(request, sendsOutbound).ifPresent(url -> {
        config.put(WEBHOOK_ORIGIN, origin(url));
        credentials.put(WEBHOOK_URL, url);
      });
      outgoingSecret(request, acceptsInbound).ifPresent(secret -> credentials.put(OUTGOING_SECRET, secret));
      return Future.succeededFuture(new BridgeSetup(config, credentials));
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
  }

  /** The workflow URL, checked; required when the bridge sends outbound. Messages never repeat it: it is a secret. */
  private Optional<String> webhookUrl(JsonObject request, boolean sendsOutbound) {
    String url = JsonBody.optionalString(request, WEBHOOK_URL, 2048);
    if (url == null || url.isBlank()) {
      if (sendsOutbound) {
        throw ProblemException.badRequest("field '" + WEBHOOK_URL + "' is required when the bridge sends outbound: "
            + "the HTTP POST URL of the Teams workflow's \"When a Teams webhook request is received\" trigger");
      }
      return Optional.empty();
    }
    String trimmed = url.strip();
    guard.refuseConfigured(trimmed).ifPresent(reason -> {
      throw ProblemException.badRequest("field '" + WEBHOOK_URL + "' is refused: " + reason);
    });
    return Optional.of(trimmed);
  }

  /** The outgoing webhook's security token, which must decode as base64; required when the bridge accepts inbound. */
  private static Optional<String> outgoingSecret(JsonObject request, boolean acceptsInbound) {
    String secret = JsonBody.optionalString(request, OUTGOING_SECRET, 512);
    if (secret == null || secret.isBlank()) {
      if (acceptsInbound) {
        throw ProblemException.badRequest("field '" + OUTGOING_SECRET + "' is required when the bridge accepts inbound: "
            + "the security token Teams shows once when the outgoing webhook is created");
      }
      return Optional.empty();
    }
    String trimmed = secret.strip();
    byte[] key;
    try {
      key = Base64.getDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest("field '" + OUTGOING_SECRET + "' must be the base64 security token Teams showed: it is not base64");
    }
    if (key.length < MIN_SECRET_BYTES) {
      throw ProblemException.badRequest("field '" + OUTGOING_SECRET + "' must be the base64 security token Teams showed: it decodes to "
          + key.length + " bytes, Teams' tokens have 32");
    }
    return Optional.of(trimmed);
  }

  /** {@code https://host[:port]}: enough to tell which workflow service a bridge posts to. */
  static String origin(String url) {
    try {
      URI uri = new URI(url);
      return uri.getScheme().toLowerCase() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("a URL the guard accepted does not parse", e);
    }
  }

  @Override
  public TransportRequest render(Delivery delivery) {
    JsonObject content = content(delivery);
    String body = AdaptiveCards.message(senderName(delivery), text(content), "swp.edit".equals(content.getString("msgtype"))).encode();
    return new TransportRequest(delivery.id(), delivery.credentials().getString(WEBHOOK_URL), new JsonObject(), body);
  }

  /**
   * One post per delivery, paced per workflow URL. A delete is DELIVERED at once with a note and
   * nothing sent; a 429 (or a throttle said in a 2xx body) with {@code Retry-After} holds the URL for
   * every bridge that posts to it.
   */
  @Override
  public Future<TransportResult> send(List<Delivery> batch, HttpSender sender) {
    Delivery delivery = batch.get(0);
    if ("swp.delete".equals(content(delivery).getString("msgtype"))) {
      return Future.succeededFuture(new TransportResult(Outcome.DELIVERED, null, null, DELETE_NOTE, 0));
    }
    String url = delivery.credentials().getString(WEBHOOK_URL);
    if (url == null) {
      return Future.succeededFuture(TransportResult.broken(null, "the bridge has no " + WEBHOOK_URL + " to post to", 0));
    }
    return pacer.run(sender.vertx(), url, waited -> sender.send(render(delivery), this).map(result -> {
      if (result.outcome() == Outcome.RATE_LIMITED && result.retryAfterMs() != null) {
        pacer.holdFor(url, result.retryAfterMs());
      }
      return result.plusLatency(waited);
    }));
  }

  /**
   * Workflows answer 202 Accepted (the post itself runs later). A 2xx whose body reports a throttle is
   * rate limited like a 429. 401, 403, 404 and 410 mean the URL no longer starts the workflow (deleted,
   * turned off, its URL regenerated or revoked): the bridge's settings are broken. Other 4xx fail the
   * one message, 5xx are retried.
   */
  @Override
  public TransportResult classify(HttpAnswer answer) {
    int status = answer.status();
    String said = snippet(answer.body());
    if (status >= 200 && status < 300 && said != null && THROTTLED.matcher(said).find()) {
      return new TransportResult(Outcome.RATE_LIMITED, status, HttpAnswer.retryAfterMs(answer.headers().get("Retry-After"), answer.clock()),
          "throttled: " + said, answer.latencyMs());
    }
    if (status == 401 || status == 403 || status == 404 || status == 410) {
      return TransportResult.broken(status, "the workflow URL no longer starts a workflow (deleted, turned off, or its URL "
          + "regenerated): create the workflow again and a new bridge with its URL" + (said == null ? "" : "; the workflow service said: " + said),
          answer.latencyMs());
    }
    return answer.classify(null);
  }

  @Override
  public Optional<InboundAdapter> inbound() {
    return Optional.of(inbound);
  }

  private static JsonObject content(Delivery delivery) {
    return delivery.payload().getValue("content") instanceof JsonObject c ? c : new JsonObject();
  }

  private static String senderName(Delivery delivery) {
    JsonObject sender = delivery.payload().getValue("sender") instanceof JsonObject s ? s : new JsonObject();
    if (sender.getValue("display_name") instanceof String name && !name.isBlank()) {
      return name;
    }
    return sender.getValue("fqid") instanceof String fqid && !fqid.isBlank() ? Fqids.ownName(fqid) : "(unknown sender)";
  }

  /** The text of a message or an edit; other kinds are named, so the channel sees that something was said. */
  private static String text(JsonObject content) {
    if (content.getValue("body") instanceof String body && !body.isBlank()) {
      return body;
    }
    Object kind = content.getValue("msgtype");
    return kind instanceof String s && !s.equals("swp.text") && !s.equals("swp.edit") ? "[" + s + "]" : "(empty message)";
  }

  private static String snippet(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    String text = body.length() > 400 ? body.getString(0, 400) : body.toString();
    text = text.strip();
    return text.isEmpty() ? null : text;
  }
}
