package com.scairelay.transport.slack;

import com.scairelay.transport.HttpSender;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slack users' names and avatars, as {@code users.info} last told them, kept for
 * {@code slack.profile_cache_seconds}: a busy user costs one API call per period, not one per message.
 * One fetch per user at a time; safe to share between event loops.
 */
final class SlackProfiles {
  /** More users than this and the expired entries are dropped (all of them, should that not be enough). */
  private static final int MAX_ENTRIES = 50_000;

  record Profile(String displayName, String avatarUrl) {
  }

  private record Entry(Profile profile, Instant fetchedAt) {
  }

  private final SlackApi api;
  private final Duration ttl;
  private final ConcurrentHashMap<String, Entry> cache = new ConcurrentHashMap<>();
  private final Set<String> fetching = ConcurrentHashMap.newKeySet();

  SlackProfiles(SlackApi api, Duration ttl) {
    this.api = api;
    this.ttl = ttl;
  }

  /** The profile of {@code user} of {@code team} fetched less than the cache period before {@code now}. */
  Optional<Profile> cached(String team, String user, Instant now) {
    Entry entry = cache.get(key(team, user));
    return entry == null || !now.isBefore(entry.fetchedAt().plus(ttl)) ? Optional.empty() : Optional.of(entry.profile());
  }

  /**
   * Asks Slack for the profile of {@code user}, remembers it and answers it; empty when a fetch of the
   * same user is under way already (it will be remembered by that one).
   */
  Future<Optional<Profile>> fetch(HttpSender sender, String token, String team, String user) {
    String key = key(team, user);
    if (!fetching.add(key)) {
      return Future.succeededFuture(Optional.empty());
    }
    return api.usersInfo(sender, token, user)
        .map(found -> {
          Profile profile = profile(found);
          remember(key, profile, sender.clock().instant());
          return Optional.of(profile);
        })
        .onComplete(done -> fetching.remove(key));
  }

  private void remember(String key, Profile profile, Instant now) {
    if (cache.size() >= MAX_ENTRIES) {
      cache.values().removeIf(e -> !now.isBefore(e.fetchedAt().plus(ttl)));
      if (cache.size() >= MAX_ENTRIES) {
        cache.clear();
      }
    }
    cache.put(key, new Entry(profile, now));
  }

  /** The name Slack shows (the display name, else the full name, else the handle) and the 192 px avatar. */
  static Profile profile(JsonObject user) {
    JsonObject profile = user.getValue("profile") instanceof JsonObject p ? p : new JsonObject();
    String name = firstNonBlank(SlackApi.string(profile, "display_name"), SlackApi.string(profile, "real_name"),
        SlackApi.string(user, "real_name"), SlackApi.string(user, "name"));
    String avatar = firstNonBlank(SlackApi.string(profile, "image_192"), SlackApi.string(profile, "image_72"),
        SlackApi.string(profile, "image_48"));
    return new Profile(name, avatar);
  }

  private static String firstNonBlank(String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return null;
  }

  private static String key(String team, String user) {
    return team + "/" + user;
  }
}
