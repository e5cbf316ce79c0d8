package com.scairelay.transport;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Keeps outbound deliveries away from the node's own networks (SSRF): loopback, private, link-local
 * (cloud metadata lives at 169.254.169.254), unique-local, carrier-grade NAT and unspecified
 * addresses are refused unless configuration allows them. Checked when a URL is configured (for IP
 * literals and {@code localhost}) and again at connect time for every address the host resolves to.
 */
public final class OutboundGuard {
  private final boolean allowLoopback;
  private final boolean allowPrivate;

  public OutboundGuard(boolean allowLoopback, boolean allowPrivate) {
    this.allowLoopback = allowLoopback;
    this.allowPrivate = allowPrivate;
  }

  /** Why {@code url} cannot be a delivery URL (not absolute http(s), or refused as below); empty when it can. */
  public Optional<String> refuseConfigured(String url) {
    try {
      URI uri = new URI(url);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        return Optional.of("it must be an absolute http or https URL");
      }
      return refuseUrl(uri);
    } catch (java.net.URISyntaxException e) {
      return Optional.of("it is not a valid URL: " + e.getReason());
    }
  }

  /** Why this URL may not be configured, judged without DNS; empty when it may. */
  public Optional<String> refuseUrl(URI uri) {
    String host = uri.getHost();
    if (host == null) {
      return Optional.of("it has no host");
    }
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (bare.equalsIgnoreCase("localhost") || bare.toLowerCase().endsWith(".localhost")) {
      return allowLoopback ? Optional.empty() : Optional.of(loopbackRefusal(bare));
    }
    if (!isIpLiteral(bare)) {
      return Optional.empty();
    }
    try {
      return refuse(InetAddress.getByName(bare));
    } catch (UnknownHostException e) {
      return Optional.of("its address " + bare + " is not valid");
    }
  }

  /** Why a connection to this address is refused; empty when it may be made. */
  public Optional<String> refuse(InetAddress address) {
    if (address.isLoopbackAddress()) {
      return allowLoopback ? Optional.empty() : Optional.of(loopbackRefusal(address.getHostAddress()));
    }
    if (isInternal(address) && !allowPrivate) {
      return Optional.of("it points at the internal address " + address.getHostAddress()
          + " (private, link-local or metadata); set outbound.allow_private_networks=true (env RELAY_OUTBOUND_ALLOW_PRIVATE_NETWORKS) to allow it");
    }
    return Optional.empty();
  }

  private static String loopbackRefusal(String host) {
    return "it points at the loopback address " + host
        + "; set outbound.allow_loopback=true (env RELAY_OUTBOUND_ALLOW_LOOPBACK) to allow it";
  }

  static boolean isIpLiteral(String host) {
    return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  private static boolean isInternal(InetAddress address) {
    if (address.isAnyLocalAddress() || address.isSiteLocalAddress() || address.isLinkLocalAddress() || address.isMulticastAddress()) {
      return true;
    }
    byte[] b = address.getAddress();
    if (address instanceof Inet4Address) {
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      return first == 0 || (first == 100 && second >= 64 && second < 128);
    }
    if (address instanceof Inet6Address) {
      return (b[0] & 0xfe) == 0xfc;
    }
    return false;
  }
}
