package com.scairelay.transport.slack;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The lines of the joined posts this node made lately, so that an edit or delete of one of the
 * messages in a joined post changes only its own line. Kept in memory, the most recently used
 * {@value #MAX_POSTS}. After a restart, or once another node has taken over the bridge, a joined post
 * that is not known here is edited or deleted as a whole.
 */
final class JoinedPosts {
  private static final int MAX_POSTS = 10_000;

  /** One line of a joined post: the event it shows and its text as posted (escaped). */
  record Line(String eventId, String text) {
  }

  private final Map<String, List<Line>> posts = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, List<Line>> eldest) {
      return size() > MAX_POSTS;
    }
  };

  synchronized void remember(String channel, String ts, List<Line> lines) {
    posts.put(channel + "/" + ts, List.copyOf(lines));
  }

  /** The lines of the joined post {@code ts} in {@code channel}, when this node made it. */
  synchronized Optional<List<Line>> lines(String channel, String ts) {
    return Optional.ofNullable(posts.get(channel + "/" + ts));
  }

  synchronized void forget(String channel, String ts) {
    posts.remove(channel + "/" + ts);
  }

  /** {@code lines} with the line of {@code eventId} replaced by {@code text} (null: removed). */
  static List<Line> changed(List<Line> lines, String eventId, String text) {
    List<Line> changed = new ArrayList<>(lines.size());
    for (Line line : lines) {
      if (!line.eventId().equals(eventId)) {
        changed.add(line);
      } else if (text != null) {
        changed.add(new Line(eventId, text));
      }
    }
    return changed;
  }

  static String text(List<Line> lines) {
    StringBuilder text = new StringBuilder();
    for (Line line : lines) {
      if (!text.isEmpty()) {
        text.append('\n');
      }
      text.append(line.text());
    }
    return text.toString();
  }
}
