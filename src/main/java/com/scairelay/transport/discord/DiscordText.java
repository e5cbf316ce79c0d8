package com.scairelay.transport.discord;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What Discord accepts as a message's content and a webhook's per-message username. */
final class DiscordText {
  /** Discord's limit of a message's {@code content}, in characters (counted here in UTF-16 units, never more). */
  static final int MAX_CONTENT = 2000;
  static final int MAX_USERNAME = 80;
  /**
   * Discord refuses a webhook username containing "discord" or "clyde" (400, any case): one letter of each
   * is swapped for its Cyrillic look-alike, as bridges commonly do, so the name reads the same.
   */
  private static final Pattern REFUSED = Pattern.compile("(?i)disc(o)rd|clyd(e)");
  private static final String FALLBACK_NAME = "ScaiRelay";

  private DiscordText() {
  }

  /**
   * {@code text} in parts of at most {@code max} characters, in order: each cut at the last newline of the
   * part's second half, else its last space there, else the last newline or space anywhere in it, else
   * exactly at {@code max} (never inside a surrogate pair). The newline or space cut at is dropped; blank
   * parts (Discord refuses an empty message) are left out.
   */
  static List<String> split(String text, int max) {
    List<String> parts = new ArrayList<>();
    int start = 0;
    while (text.length() - start > max) {
      int end = start + max;
      int cut = cutAt(text, start, end);
      if (cut > start) {
        add(parts, text.substring(start, cut));
        start = cut + 1;
      } else {
        int hard = Character.isHighSurrogate(text.charAt(end - 1)) ? end - 1 : end;
        add(parts, text.substring(start, hard));
        start = hard;
      }
    }
    add(parts, text.substring(start));
    return parts;
  }

  /** The index of the separator to cut at, in {@code (start, end]} ({@code end} itself: the part is full), or -1. */
  private static int cutAt(String text, int start, int end) {
    int half = start + (end - start) / 2;
    int newline = text.lastIndexOf('\n', end);
    int space = text.lastIndexOf(' ', end);
    if (newline > half) {
      return newline;
    }
    if (space > half) {
      return space;
    }
    int either = Math.max(newline, space);
    return either > start ? either : -1;
  }

  private static void add(List<String> parts, String part) {
    if (!part.isBlank()) {
      parts.add(part);
    }
  }

  /** {@code text} cut to {@code max} characters, the last one an ellipsis when it was cut (an edit is one message). */
  static String truncate(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int end = max - 1;
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "…";
  }

  /**
   * The sender's name as a webhook username: control characters removed, trimmed, "discord" and "clyde"
   * made acceptable, at most 80 characters; {@code fallback} (then "ScaiRelay") when nothing is left.
   */
  static String username(String displayName, String fallback) {
    String name = clean(displayName);
    if (name.isEmpty()) {
      name = clean(fallback);
    }
    if (name.isEmpty()) {
      name = FALLBACK_NAME;
    }
    Matcher refused = REFUSED.matcher(name);
    StringBuilder out = new StringBuilder(name.length());
    int last = 0;
    while (refused.find()) {
      int letter = refused.start(1) >= 0 ? refused.start(1) : refused.start(2);
      out.append(name, last, letter).append(lookAlike(name.charAt(letter)));
      last = letter + 1;
    }
    out.append(name, last, name.length());
    return truncateName(out.toString());
  }

  private static String clean(String text) {
    return text == null ? "" : text.replaceAll("\\p{Cc}+", " ").strip();
  }

  private static char lookAlike(char c) {
    return switch (c) {
      case 'o' -> '\u043E';
      case 'O' -> '\u041E';
      case 'e' -> '\u0435';
      default -> '\u0415';
    };
  }

  private static String truncateName(String name) {
    if (name.length() <= MAX_USERNAME) {
      return name;
    }
    int end = Character.isHighSurrogate(name.charAt(MAX_USERNAME - 1)) ? MAX_USERNAME - 1 : MAX_USERNAME;
    return name.substring(0, end).strip();
  }
}
