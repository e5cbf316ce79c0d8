package com.scairelay.transport.discord;

import com.scairelay.http.ProblemException;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A channel webhook as Discord's "Copy Webhook URL" names it, {@code https://discord.com/api/webhooks/{id}/{token}}.
 * The token is a credential: whoever has it can post as the webhook, so it is never shown, logged or put in
 * an error. Calls go to {@code {discord.api_url}/webhooks/{id}/{token}}, never to the pasted host.
 */
record DiscordWebhook(String id, String token) {
  static final String FIELD = "discord_webhook_url";
  private static final Set<String> HOSTS = Set.of("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com",
      "canary.discordapp.com", "ptb.discordapp.com");
  private static final Pattern PATH = Pattern.compile("(?:/api(?:/v\\d{1,2})?)?/webhooks/(\\d{1,20})/([A-Za-z0-9_.-]{1,200})/?");
  private static final String SHAPE = "https://discord.com/api/webhooks/{id}/{token} (channel settings → Integrations → Webhooks → "
      + "Copy Webhook URL)";

  /**
   * The webhook of {@code url}: an https URL of a Discord host (or of {@code apiUrl}'s host, for a site that
   * runs its own endpoint), path {@code /api/webhooks/{id}/{token}}. A 400 naming the field otherwise; the
   * message never repeats the URL.
   */
  static DiscordWebhook parse(String url, String apiUrl) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw shapeError();
    }
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean apiHost = host.equals(apiHost(apiUrl));
    if (!(HOSTS.contains(host) && scheme.equals("https")) && !(apiHost && scheme.startsWith("http"))) {
      throw shapeError();
    }
    Matcher path = PATH.matcher(uri.getRawPath() == null ? "" : uri.getRawPath());
    if (!path.matches() || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw shapeError();
    }
    return new DiscordWebhook(path.group(1), path.group(2));
  }

  /** {@code {api}/webhooks/{id}/{token}}. */
  String url(String api) {
    return api + "/webhooks/" + id + "/" + token;
  }

  /** {@code {api}/webhooks/{id}/{token}/messages/{messageId}}: edit or delete one of the webhook's messages. */
  String messageUrl(String api, String messageId) {
    return url(api) + "/messages/" + messageId;
  }

  @Override
  public String toString() {
    return "webhook " + id;
  }

  private static String apiHost(String apiUrl) {
    try {
      String host = new URI(apiUrl).getHost();
      return host == null ? "" : host.toLowerCase(Locale.ROOT);
    } catch (URISyntaxException e) {
      return "";
    }
  }

  private static ProblemException shapeError() {
    return ProblemException.badRequest("field '" + FIELD + "' must be a Discord webhook URL, " + SHAPE);
  }
}
