package com.scairelay.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Fully qualified participant ids of one server, Matrix style: {@code @localpart:server}. A native
 * sender posting the bare name {@code alice} is {@code @alice:<server>}; an id already of the form
 * {@code @x:y} is kept as given. A bridge's shadow of a foreign user is
 * {@code @bridge_<bridge id>.<external id>:<server>}, both parts escaped as the Matrix specification's
 * appendix maps other character sets onto localparts (reversible, so unique): an upper-case letter is
 * {@code _} and the letter in lower case, {@code _} is {@code __}, {@code a-z 0-9 . - /} stay, and every
 * other byte of the UTF-8 text is {@code =} and two hex digits ({@code U12345} → {@code _u12345},
 * {@code 29:1a} → {@code 29=3a1a}). The bridge part never holds a {@code .} (it is escaped there too),
 * so the first {@code .} ends it. No native id of this server may start with {@code @bridge_}, so nobody
 * can speak as a shadow.
 */
public record Fqids(String serverName) {
  public static final String SHADOW_PREFIX = "bridge_";
  /**
   * Longest fqid stored (its characters are ASCII but for a native's own): the index on (room, fqid)
   * holds it, and PostgreSQL refuses index rows over 2,704 bytes.
   */
  public static final int MAX_LENGTH = 2600;
  private static final HexFormat HEX = HexFormat.of();

  /**
   * The fqid of a native sender who posted {@code name}. Refused (an {@link IllegalArgumentException}
   * whose message says why): a bare name holding {@code :}, {@code @name} without a server, and an id
   * of this server in the shadow form.
   */
  public String nativeUser(String name) {
    String fqid;
    if (isQualified(name)) {
      fqid = name;
    } else if (name.startsWith("@")) {
      throw new IllegalArgumentException("'" + name + "' is not a full id '@name:server' (such as '@alice:" + serverName
          + "'), nor a bare name ('alice')");
    } else if (name.indexOf(':') >= 0) {
      throw new IllegalArgumentException("'" + name + "' is neither a bare name (no ':') nor a full id such as '@alice:" + serverName + "'");
    } else {
      fqid = "@" + name + ":" + serverName;
    }
    if (fqid.substring(fqid.indexOf(':') + 1).equals(serverName) && fqid.startsWith("@" + SHADOW_PREFIX)) {
      throw new IllegalArgumentException("'" + name + "' has the form of a bridged user (@" + SHADOW_PREFIX + "…:" + serverName + ")");
    }
    return fqid;
  }

  /** The fqid of the shadow of {@code externalId} on bridge {@code bridgeId}; refused when longer than {@link #MAX_LENGTH}. */
  public String shadow(String bridgeId, String externalId) {
    String fqid = "@" + SHADOW_PREFIX + escape(bridgeId, false) + "." + escape(externalId, true) + ":" + serverName;
    if (fqid.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("the sender's external id is too long once escaped into its fqid (" + fqid.length()
          + " characters, at most " + MAX_LENGTH + ")");
    }
    return fqid;
  }

  /** True for {@code @localpart:server}: a non-empty localpart without {@code :}, and a non-empty server. */
  public static boolean isQualified(String id) {
    int colon = id.indexOf(':');
    return id.startsWith("@") && colon > 1 && colon < id.length() - 1;
  }

  /** The name a sender goes by on its own side: a shadow's external id; anyone else's fqid as it is (null: null). */
  public static String ownName(String fqid) {
    if (fqid == null || !isQualified(fqid) || !fqid.startsWith("@" + SHADOW_PREFIX)) {
      return fqid;
    }
    String localpart = fqid.substring(1, fqid.indexOf(':'));
    int dot = localpart.indexOf('.');
    return dot < 0 ? fqid : unescape(localpart.substring(dot + 1));
  }

  /** {@code raw} as localpart characters (see the class comment); {@code .} is kept only when {@code keepDot}. */
  static String escape(String raw, boolean keepDot) {
    StringBuilder out = new StringBuilder(raw.length() + 8);
    for (byte b : raw.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if (c >= 'A' && c <= 'Z') {
        out.append('_').append((char) (c + ('a' - 'A')));
      } else if (c == '_') {
        out.append("__");
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '/' || (c == '.' && keepDot)) {
        out.append(c);
      } else {
        out.append('=').append(HEX.toHexDigits(b));
      }
    }
    return out.toString();
  }

  /** The text {@link #escape} made {@code escaped} of; what is not an escape is taken as it is. */
  static String unescape(String escaped) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(escaped.length());
    for (int i = 0; i < escaped.length(); i++) {
      char c = escaped.charAt(i);
      char next = i + 1 < escaped.length() ? escaped.charAt(i + 1) : 0;
      if (c == '_' && next == '_') {
        bytes.write('_');
        i++;
      } else if (c == '_' && next >= 'a' && next <= 'z') {
        bytes.write(next - ('a' - 'A'));
        i++;
      } else if (c == '=' && i + 2 < escaped.length() && HexFormat.isHexDigit(next) && HexFormat.isHexDigit(escaped.charAt(i + 2))) {
        bytes.write(HexFormat.fromHexDigits(escaped, i + 1, i + 3));
        i += 2;
      } else {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
