package com.scairelay.webhooks;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Content-Type} a subscription may give its deliveries instead of {@code application/json}:
 * one media type of RFC 9110 §8.3.1 ({@code type/subtype}, then {@code ;name=value} parameters), no
 * wildcard (a range names no body), and a {@code charset}, when given, of {@code utf-8}: the body is
 * sent, and signed, as the UTF-8 bytes of the JSON, whatever the header says.
 */
final class MediaType {
  static final int MAX_LENGTH = 255;
  private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
  private static final String QUOTED = "\"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\t\\x20-\\x7E])*\"";
  private static final Pattern TYPE = Pattern.compile("(" + TOKEN + ")/(" + TOKEN + ")");
  private static final Pattern PARAMETER = Pattern.compile("[ \\t]*;[ \\t]*(" + TOKEN + ")=(" + TOKEN + "|" + QUOTED + ")");

  private MediaType() {
  }

  /** What is wrong with {@code value} as a delivery's Content-Type; empty when nothing is. */
  static Optional<String> problem(String value) {
    Matcher type = TYPE.matcher(value);
    if (value.length() > MAX_LENGTH || !type.lookingAt()) {
      return Optional.of("must be a media type such as 'application/json' or 'application/vnd.acme+json; charset=utf-8'");
    }
    if (type.group(1).equals("*") || type.group(2).equals("*")) {
      return Optional.of("must name one media type, not a range with '*'");
    }
    Matcher parameter = PARAMETER.matcher(value);
    for (int at = type.end(); at < value.length(); at = parameter.end()) {
      if (!parameter.region(at, value.length()).lookingAt()) {
        return Optional.of("has a malformed parameter at '" + value.substring(at) + "'; parameters are ';name=value'");
      }
      String charset = unquoted(parameter.group(2));
      if (parameter.group(1).equalsIgnoreCase("charset") && !charset.equalsIgnoreCase("utf-8")) {
        return Optional.of("may only name charset=utf-8: the body is sent and signed as UTF-8, not '" + charset + "'");
      }
    }
    return Optional.empty();
  }

  private static String unquoted(String value) {
    return value.startsWith("\"") ? value.substring(1, value.length() - 1).replaceAll("\\\\(.)", "$1").toLowerCase(Locale.ROOT) : value;
  }
}
