package com.scairelay.transport;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Keeps outbound deliveries away from the node's own networks (SSRF). Every address is judged against
 * {@link #RANGES}, the special-purpose ranges of the IANA IPv4 and IPv6 registries that are not globally
 * reachable: loopback (and the unspecified address, which connects to this host) needs
 * {@code outbound.allow_loopback}; private, link-local (cloud metadata), unique-local, carrier-grade NAT
 * and other internal ranges need {@code outbound.allow_private_networks}; documentation, benchmarking,
 * protocol-assignment, discard, multicast, broadcast and reserved ranges are never a delivery endpoint
 * and are always refused. IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64,
 * 6to4) are judged by that IPv4 address. Checked when a URL is configured (for IP literals and
 * {@code localhost}) and again at connect time for every address the host resolves to.
 */
public final class OutboundGuard {
  /** What it takes to reach an address of a range. */
  enum Needs { LOOPBACK, PRIVATE, NEVER, EMBEDDED_IPV4 }

  /**
   * A CIDR range: addresses of the same family whose first {@code bits} bits are those of {@code prefix}.
   * {@code embedsAt}: the byte offset of the IPv4 address the range carries, or -1; that address is judged
   * too, and a refusal of it comes first.
   */
  record Range(String cidr, byte[] prefix, int bits, Needs needs, int embedsAt, String what) {
    boolean contains(byte[] address) {
      if (address.length != prefix.length) {
        return false;
      }
      for (int bit = 0; bit < bits; bit += 8) {
        int mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
        if ((address[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }

  /** First match wins: a range comes before any range that contains it. */
  static final List<Range> RANGES = List.of(
      range("0.0.0.0/32", Needs.LOOPBACK, "unspecified, connects to this host"),
      range("0.0.0.0/8", Needs.PRIVATE, "\"this network\""),
      range("10.0.0.0/8", Needs.PRIVATE, "private"),
      range("100.64.0.0/10", Needs.PRIVATE, "carrier-grade NAT"),
      range("127.0.0.0/8", Needs.LOOPBACK, "loopback"),
      range("169.254.0.0/16", Needs.PRIVATE, "link-local, cloud metadata"),
      range("172.16.0.0/12", Needs.PRIVATE, "private"),
      range("192.0.0.0/24", Needs.NEVER, "IETF protocol assignments"),
      range("192.0.2.0/24", Needs.NEVER, "documentation, TEST-NET-1"),
      range("192.88.99.0/24", Needs.NEVER, "deprecated 6to4 relay anycast"),
      range("192.168.0.0/16", Needs.PRIVATE, "private"),
      range("198.18.0.0/15", Needs.NEVER, "benchmarking"),
      range("198.51.100.0/24", Needs.NEVER, "documentation, TEST-NET-2"),
      range("203.0.113.0/24", Needs.NEVER, "documentation, TEST-NET-3"),
      range("224.0.0.0/4", Needs.NEVER, "multicast"),
      range("255.255.255.255/32", Needs.NEVER, "limited broadcast"),
      range("240.0.0.0/4", Needs.NEVER, "reserved"),
      range("::/128", Needs.LOOPBACK, "unspecified, connects to this host"),
      range("::1/128", Needs.LOOPBACK, "loopback"),
      range("::ffff:0:0/96", Needs.EMBEDDED_IPV4, 12, "IPv4-mapped"),
      range("::/96", Needs.EMBEDDED_IPV4, 12, "IPv4-compatible"),
      range("64:ff9b::/96", Needs.EMBEDDED_IPV4, 12, "NAT64"),
      // Where a local-use NAT64 prefix carries IPv4 depends on the operator's prefix length: it is
      // internal, and its last 32 bits (the /96 layout) are judged as well.
      range("64:ff9b:1::/48", Needs.PRIVATE, 12, "local-use NAT64"),
      range("100::/64", Needs.NEVER, "discard-only"),
      range("2001:db8::/32", Needs.NEVER, "documentation"),
      range("2001::/23", Needs.NEVER, "IETF protocol assignments: Teredo, benchmarking, ORCHID and others"),
      range("2002::/16", Needs.EMBEDDED_IPV4, 2, "6to4"),
      range("3fff::/20", Needs.NEVER, "documentation"),
      range("5f00::/16", Needs.PRIVATE, "segment routing (SRv6) SIDs"),
      range("fc00::/7", Needs.PRIVATE, "unique-local"),
      range("fe80::/10", Needs.PRIVATE, "link-local"),
      range("fec0::/10", Needs.PRIVATE, "deprecated site-local"),
      range("ff00::/8", Needs.NEVER, "multicast"));

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
      return allowLoopback ? Optional.empty() : Optional.of(refusal(Needs.LOOPBACK, bare, null));
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
    return refuse(address.getAddress(), address.getHostAddress(), "");
  }

  /** {@code shown}: the address as the message names it; {@code via}: how it carries the one being judged. */
  private Optional<String> refuse(byte[] address, String shown, String via) {
    for (Range range : RANGES) {
      if (!range.contains(address)) {
        continue;
      }
      if (range.embedsAt() >= 0) {
        byte[] ipv4 = Arrays.copyOfRange(address, range.embedsAt(), range.embedsAt() + 4);
        String carried = via + range.what() + " form of " + ipv4String(ipv4) + ", ";
        Optional<String> refused = refuse(ipv4, shown, carried);
        if (refused.isPresent() || range.needs() == Needs.EMBEDDED_IPV4) {
          return refused;
        }
      }
      boolean allowed = range.needs() == Needs.LOOPBACK ? allowLoopback : range.needs() == Needs.PRIVATE && allowPrivate;
      return allowed ? Optional.empty() : Optional.of(refusal(range.needs(), shown, via + range.cidr() + " " + range.what()));
    }
    return Optional.empty();
  }

  /** The refusal, naming the address, why it is refused, and the setting that would allow it. */
  private static String refusal(Needs needs, String shown, String why) {
    String detail = why == null ? "" : " (" + why + ")";
    return switch (needs) {
      case LOOPBACK -> "it points at the loopback address " + shown + detail
          + "; set outbound.allow_loopback=true (env RELAY_OUTBOUND_ALLOW_LOOPBACK) to allow it";
      case PRIVATE -> "it points at the internal address " + shown + detail
          + "; set outbound.allow_private_networks=true (env RELAY_OUTBOUND_ALLOW_PRIVATE_NETWORKS) to allow it";
      default -> "it points at the reserved address " + shown + detail + ", never a delivery endpoint; no setting allows it";
    };
  }

  static boolean isIpLiteral(String host) {
    return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  private static Range range(String cidr, Needs needs, String what) {
    return range(cidr, needs, -1, what);
  }

  private static Range range(String cidr, Needs needs, int embedsAt, String what) {
    String[] parts = cidr.split("/");
    byte[] prefix;
    try {
      prefix = InetAddress.getByName(parts[0]).getAddress(); // literals only: no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(cidr, e);
    }
    if (parts[0].contains(":") && prefix.length == 4) { // InetAddress turns ::ffff:a.b.c.d into IPv4
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xff;
      mapped[11] = (byte) 0xff;
      System.arraycopy(prefix, 0, mapped, 12, 4);
      prefix = mapped;
    }
    return new Range(cidr, prefix, Integer.parseInt(parts[1]), needs, embedsAt, what);
  }

  private static String ipv4String(byte[] b) {
    return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
  }
}
