package com.scairelay.config;

import java.net.InetAddress;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The server part of every participant's fqid ({@code @alice:<name>}), a Matrix server name: a DNS
 * name, an IPv4 address or a bracketed IPv6 address, then an optional {@code :port}. When
 * {@code server.name} is empty it is this host's name (resolved once, {@code localhost} when it has
 * none usable), and {@code configured} is false: a database that already names its participants for
 * another server keeps that one (see {@code store.ServerIdentity}).
 */
public record ServerName(String name, boolean configured) {
  static final String KEY = "server.name";
  private static final Pattern VALID = Pattern.compile("(\\[[0-9A-Fa-f:.]{2,45}]|[A-Za-z0-9.-]{1,255})(:[0-9]{1,5})?");

  static ServerName read(Settings s) {
    String raw = s.string(KEY).trim();
    if (raw.isEmpty()) {
      return new ServerName(ThisHost.NAME, false);
    }
    if (!valid(raw)) {
      throw s.invalid(KEY, raw, "a server name: a DNS name, an IPv4 address or a [bracketed] IPv6 address, then an optional :port");
    }
    return new ServerName(raw, true);
  }

  static boolean valid(String name) {
    var m = VALID.matcher(name);
    if (!m.matches() || name.startsWith(".") || name.startsWith("-")) {
      return false;
    }
    return m.group(2) == null || (Integer.parseInt(m.group(2).substring(1)) >= 1 && Integer.parseInt(m.group(2).substring(1)) <= 65535);
  }

  /** Resolved on first use, once per process. */
  private static final class ThisHost {
    static final String NAME = resolve();

    private static String resolve() {
      try {
        String host = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        return valid(host) ? host : "localhost";
      } catch (Exception e) {
        return "localhost";
      }
    }
  }
}
