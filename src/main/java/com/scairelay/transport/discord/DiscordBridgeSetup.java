package com.scairelay.transport.discord;

import com.scairelay.http.JsonBody;
import com.scairelay.http.ProblemException;
import com.scairelay.transport.Connector.BridgeSetup;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.TransportRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * A new Discord bridge's settings, checked with Discord before it is stored. Outbound: the channel webhook
 * of {@code discord_webhook_url}, fetched with its token (Get Webhook with Token) for its channel and guild.
 * Inbound: the bot of {@code discord_bot_token} ({@code GET /users/@me}, its user id kept to recognise its
 * own messages) and {@code discord_channel_id}, which the bot must see ({@code GET /channels/{id}}); a
 * bridge of both directions mirrors the webhook's channel. Tokens go to the credentials, never the config.
 */
final class DiscordBridgeSetup {
  static final String BOT_TOKEN_FIELD = "discord_bot_token";
  static final String CHANNEL_FIELD = "discord_channel_id";
  static final String CONFIG_CHANNEL_ID = "discord_channel_id";
  static final String CONFIG_GUILD_ID = "discord_guild_id";
  static final String CONFIG_BOT_USER_ID = "discord_bot_user_id";
  static final String CREDENTIAL_BOT_TOKEN = "discord_bot_token";
  private static final Pattern SNOWFLAKE = Pattern.compile("\\d{1,20}");
  private static final Pattern BOT_TOKEN = Pattern.compile("[A-Za-z0-9._-]{20,200}");

  private final String apiUrl;

  DiscordBridgeSetup(String apiUrl) {
    this.apiUrl = apiUrl;
  }

  Future<BridgeSetup> setUp(JsonObject request, boolean sendsOutbound, boolean acceptsInbound, HttpSender sender) {
    DiscordWebhook hook;
    String botToken;
    String channelId;
    try {
      hook = sendsOutbound ? webhookOf(request) : null;
      botToken = acceptsInbound ? botTokenOf(request) : null;
      channelId = channelOf(request, acceptsInbound && !sendsOutbound);
    } catch (ProblemException e) {
      return Future.failedFuture(e);
    }
    JsonObject config = new JsonObject();
    JsonObject credentials = new JsonObject();
    Future<Void> checked = Future.succeededFuture();
    if (hook != null) {
      checked = checked.compose(v -> fetchWebhook(hook, sender)).map(webhook -> {
        String webhookChannel = webhook.getString("channel_id");
        if (channelId != null && webhookChannel != null && !channelId.equals(webhookChannel)) {
          throw ProblemException.badRequest("field '" + CHANNEL_FIELD + "' is channel " + channelId + " but the webhook of field '"
              + DiscordWebhook.FIELD + "' posts to channel " + webhookChannel + ": a bridge mirrors one channel");
        }
        config.put(DiscordPoster.CONFIG_WEBHOOK_ID, hook.id())
            .put(CONFIG_CHANNEL_ID, webhookChannel)
            .put(CONFIG_GUILD_ID, webhook.getString("guild_id"));
        credentials.put(DiscordPoster.CREDENTIAL_WEBHOOK_TOKEN, hook.token());
        return null;
      });
    }
    if (botToken != null) {
      checked = checked.compose(v -> fetchBot(botToken, sender)).compose(bot -> {
        config.put(CONFIG_BOT_USER_ID, bot.getString("id"));
        credentials.put(CREDENTIAL_BOT_TOKEN, botToken);
        String channel = channelId != null ? channelId : config.getString(CONFIG_CHANNEL_ID);
        return fetchChannel(botToken, channel, sender).map(found -> {
          config.put(CONFIG_CHANNEL_ID, channel).put(CONFIG_GUILD_ID, found.getString("guild_id", config.getString(CONFIG_GUILD_ID)));
          return null;
        });
      });
    }
    return checked.map(v -> new BridgeSetup(config, credentials));
  }

  private DiscordWebhook webhookOf(JsonObject request) {
    String url = JsonBody.optionalString(request, DiscordWebhook.FIELD, 2048);
    if (url == null || url.isBlank()) {
      throw ProblemException.badRequest("field '" + DiscordWebhook.FIELD + "' is required when the bridge sends outbound");
    }
    return DiscordWebhook.parse(url, apiUrl);
  }

  private static String botTokenOf(JsonObject request) {
    String token = JsonBody.optionalString(request, BOT_TOKEN_FIELD, 256);
    if (token == null || token.isBlank()) {
      throw ProblemException.badRequest("field '" + BOT_TOKEN_FIELD + "' is required when the bridge accepts inbound "
          + "(Discord delivers channel messages to a bot over the Gateway)");
    }
    token = token.strip();
    if (token.regionMatches(true, 0, "Bot ", 0, 4)) {
      token = token.substring(4).strip();
    }
    if (!BOT_TOKEN.matcher(token).matches()) {
      throw ProblemException.badRequest("field '" + BOT_TOKEN_FIELD + "' must be the bot's token (Developer Portal → the "
          + "application → Bot → Reset Token)");
    }
    return token;
  }

  /** The requested channel id; {@code required} for inbound-only bridges (others mirror the webhook's channel). */
  private static String channelOf(JsonObject request, boolean required) {
    String channel = JsonBody.optionalString(request, CHANNEL_FIELD, 32);
    if (channel == null || channel.isBlank()) {
      if (required) {
        throw ProblemException.badRequest("field '" + CHANNEL_FIELD + "' is required when the bridge accepts inbound only");
      }
      return null;
    }
    if (!SNOWFLAKE.matcher(channel.strip()).matches()) {
      throw ProblemException.badRequest("field '" + CHANNEL_FIELD + "' must be a channel id, digits only "
          + "(Discord: User Settings → Advanced → Developer Mode, then the channel's menu → Copy Channel ID)");
    }
    return channel.strip();
  }

  /** Get Webhook with Token: its {@code channel_id} and {@code guild_id}; 401 or 404: the URL is not a live webhook. */
  private Future<JsonObject> fetchWebhook(DiscordWebhook hook, HttpSender sender) {
    return ask(sender, TransportRequest.get(hook.url(apiUrl), new JsonObject()), DiscordWebhook.FIELD)
        .map(answer -> {
          if (answer.status() == 401 || answer.status() == 404) {
            throw ProblemException.badRequest("field '" + DiscordWebhook.FIELD + "': Discord knows no such webhook ("
                + answer.status() + " " + discordError(answer) + "); copy the URL again from the channel's Integrations → Webhooks");
          }
          return okJson(answer, DiscordWebhook.FIELD);
        });
  }

  /** {@code GET /users/@me} as the bot: its user id; 401: the token is wrong or was reset. */
  private Future<JsonObject> fetchBot(String token, HttpSender sender) {
    return ask(sender, TransportRequest.get(apiUrl + "/users/@me", botAuth(token)), BOT_TOKEN_FIELD)
        .map(answer -> {
          if (answer.status() == 401 || answer.status() == 403) {
            throw ProblemException.badRequest("field '" + BOT_TOKEN_FIELD + "': Discord refuses the token (" + answer.status() + " "
                + discordError(answer) + "); copy it again from the Developer Portal (Bot → Reset Token)");
          }
          JsonObject me = okJson(answer, BOT_TOKEN_FIELD);
          if (!(me.getValue("id") instanceof String)) {
            throw new ProblemException(502, "Bad Gateway", "field '" + BOT_TOKEN_FIELD + "': Discord's answer names no bot user");
          }
          return me;
        });
  }

  /** {@code GET /channels/{id}} as the bot: 403 (Missing Access) or 404: the bot cannot read the channel. */
  private Future<JsonObject> fetchChannel(String token, String channelId, HttpSender sender) {
    return ask(sender, TransportRequest.get(apiUrl + "/channels/" + channelId, botAuth(token)), CHANNEL_FIELD)
        .map(answer -> {
          if (answer.status() == 403 || answer.status() == 404) {
            throw ProblemException.badRequest("field '" + CHANNEL_FIELD + "': the bot cannot see channel " + channelId + " ("
                + answer.status() + " " + discordError(answer) + "); invite it to the server and give it View Channel and "
                + "Read Message History there");
          }
          return okJson(answer, CHANNEL_FIELD);
        });
  }

  /** The answer; no answer at all is a 502 naming the field that could not be checked (never the URL's token). */
  private static Future<HttpAnswer> ask(HttpSender sender, TransportRequest request, String field) {
    return sender.exchange(request).recover(err -> Future.failedFuture(new ProblemException(502, "Bad Gateway",
        "field '" + field + "' could not be checked with Discord: " + HttpSender.redact(HttpSender.describe(err), request.url()))));
  }

  /** A 2xx JSON object; a 429 is a 503 with {@code Retry-After}, anything else a 502 naming the field. */
  private static JsonObject okJson(HttpAnswer answer, String field) {
    if (answer.status() == 429) {
      long seconds = Math.max(1, (DiscordRateLimits.limited(answer).waitMs() + 999) / 1000);
      throw new ProblemException(503, "Service Unavailable", "field '" + field + "' could not be checked: Discord is "
          + "rate-limiting this node; try again in " + seconds + " s", Map.of("Retry-After", Long.toString(seconds)));
    }
    JsonObject body = DiscordRateLimits.json(answer);
    if (answer.status() / 100 != 2 || body == null) {
      throw new ProblemException(502, "Bad Gateway", "field '" + field + "' could not be checked with Discord: HTTP "
          + answer.status() + " " + discordError(answer));
    }
    return body;
  }

  static JsonObject botAuth(String token) {
    return new JsonObject().put("Authorization", "Bot " + token);
  }

  private static String discordError(HttpAnswer answer) {
    JsonObject body = DiscordRateLimits.json(answer);
    if (body != null && body.getValue("message") instanceof String message) {
      return body.getValue("code") instanceof Number code ? message + ", code " + code : message;
    }
    return "";
  }
}
