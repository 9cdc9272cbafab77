import { BlockList, isIP } from "node:net";

/**
 * Addresses no proxy may be sent to as a service endpoint, with why: a manifest or a
 * compromised cluster could otherwise point every proxy of the mesh at the node itself, a
 * broadcast, multicast group or the cloud's metadata service (169.254.169.254 hands out the
 * node's credentials). Loopback stays allowed: the local stack's workloads live there.
 */
const RANGES: Array<[string, number, "ipv4" | "ipv6", string]> = [
  ["0.0.0.0", 8, "ipv4", 'unspecified ("this network")'],
  ["255.255.255.255", 32, "ipv4", "the broadcast address"],
  ["169.254.0.0", 16, "ipv4", "link-local (the cloud metadata service lives here)"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved"],
  ["::", 128, "ipv6", "unspecified"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["ff00::", 8, "ipv6", "multicast"],
  ["fd00:ec2::254", 128, "ipv6", "the cloud metadata service"],
];

const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const V4 = RANGES.filter(([, , t]) => t === "ipv4").map(([net, prefix, , why]) => {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (toInt(net) & mask) >>> 0, mask, why };
});
const all = new BlockList();
for (const [net, prefix, type] of RANGES) all.addSubnet(net, prefix, type);

/** Why this is not an address an endpoint may have, or undefined when it may. */
export function unusableEndpointAddress(address: string): string | undefined {
  const v = isIP(address);
  if (v === 0) return `invalid IP address ${JSON.stringify(address)}`;
  if (v === 4) {
    // Integer arithmetic: this runs for every endpoint of every service.
    const n = toInt(address);
    const hit = V4.find((r) => (n & r.mask) >>> 0 === r.base);
    return hit ? `endpoint address ${address} is ${hit.why}` : undefined;
  }
  // IPv6, IPv4-mapped forms (::ffff:169.254.169.254) included: one check, the reason only when refused.
  if (!all.check(address, "ipv6")) return undefined;
  for (const [net, prefix, type, why] of RANGES) {
    const one = new BlockList();
    one.addSubnet(net, prefix, type);
    if (one.check(address, "ipv6")) return `endpoint address ${address} is ${why}`;
  }
  return `endpoint address ${address} is not usable`;
}
