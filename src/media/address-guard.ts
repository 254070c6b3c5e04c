/**
 * Which addresses the fetcher may connect to (DESIGN §5: media URLs are never fetched from
 * private address ranges). Only global unicast passes; loopback, RFC 1918, link-local (and so
 * the 169.254.169.254 metadata service), carrier-grade NAT, unique-local, multicast, reserved and
 * every IPv6 form that embeds an IPv4 address (mapped, NAT64, 6to4, Teredo) are refused.
 * Classification by `ipaddr.js`, whose range tables follow the IANA special-purpose registries.
 */
import ipaddr from "ipaddr.js";

/** Why an address was refused, or undefined when it may be used. */
export function refusedRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  } catch {
    return "unparseable";
  }
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address(); // ::ffff:127.0.0.1 is loopback
  }
  const range = parsed.range();
  return range === "unicast" ? undefined : range;
}

/** A host name compared as the URL parser gives it: lower case, no trailing dot, no brackets. */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, "").replace(/^\[|\]$/g, "");
}
