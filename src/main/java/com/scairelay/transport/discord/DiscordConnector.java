package com.scairelay.transport.discord;

import com.scairelay.transport.Connector;
import com.scairelay.transport.Delivery;
import com.scairelay.transport.HttpAnswer;
import com.scairelay.transport.HttpSender;
import com.scairelay.transport.Listening;
import com.scairelay.transport.TransportRequest;
import com.scairelay.transport.TransportResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;

/**
 * Transport {@code discord}: a bridge mirrors a room with a Discord channel. Outbound, room events are
 * posted through the channel's webhook ({@code discord_webhook_url}) under the sender's name and avatar,
 * paced by Discord's own rate-limit headers ({@link DiscordPoster}). Discord has no inbound webhook for
 * channel messages: a bot ({@code discord_bot_token}) hears them over the Gateway ({@link DiscordListener},
 * one connection per token in the cluster).
 *
 * <p>Every platform call goes to {@code discord.api_url} through the node's {@link HttpSender}, so tests
 * and air-gapped sites point it at a local server.
 */
public final class DiscordConnector implements Connector {
  public static final String NAME = "discord";
  /** Split messages remembered per node (see {@link SplitMessages}). */
  private static final int SPLIT_MEMORY = 10_000;

  /** How often the Gateway connections are matched to the live bridges, besides on every change. */
  private static final Duration RECONCILE_EVERY = Duration.ofSeconds(30);

  private final DiscordBridgeSetup setup;
  private final DiscordPoster poster;
  private final DiscordListener listener;

  /**
   * {@code apiUrl}: Discord's REST base ({@code discord.api_url}, e.g. {@code https://discord.com/api/v10});
   * {@code gatewayUrl}: its Gateway ({@code discord.gateway_url}, e.g. {@code wss://gateway.discord.gg}).
   */
  public DiscordConnector(String apiUrl, String gatewayUrl) {
    this.setup = new DiscordBridgeSetup(apiUrl);
    this.poster = new DiscordPoster(apiUrl, new DiscordRateLimits(), new SplitMessages(SPLIT_MEMORY));
    this.listener = new DiscordListener(gatewayUrl, DiscordGateway.Timing.DISCORD, RECONCILE_EVERY);
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
    return setup.setUp(request, sendsOutbound, acceptsInbound, sender);
  }

  @Override
  public TransportRequest render(Delivery delivery) {
    return poster.render(delivery);
  }

  @Override
  public TransportResult classify(HttpAnswer answer) {
    return poster.classify(answer);
  }

  /** One delivery at a time: Discord shows each message as its sender, so nothing is joined. */
  @Override
  public Future<TransportResult> send(List<Delivery> batch, HttpSender sender) {
    return poster.send(batch.get(0), sender);
  }

  /** Opens the Gateway connections of the bot tokens of live inbound bridges that this node owns. */
  @Override
  public Future<Void> startListening(Listening listening) {
    return listener.start(listening);
  }

  @Override
  public Future<Void> stopListening() {
    return listener.stop();
  }
}
