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

const lists = RANGES.map(([net, prefix, type, why]) => {
  const b = new BlockList();
  b.addSubnet(net, prefix, type);
  return { b, why };
});

/** Why this is not an address an endpoint may have, or undefined when it may. */
export function unusableEndpointAddress(address: string): string | undefined {
  const v = isIP(address);
  if (v === 0) return `invalid IP address ${JSON.stringify(address)}`;
  const type = v === 4 ? "ipv4" : "ipv6";
  // Checked against both families: an IPv4-mapped IPv6 address (::ffff:169.254.169.254) is the IPv4 one.
  for (const { b, why } of lists) if (b.check(address, type)) return `endpoint address ${address} is ${why}`;
  return undefined;
}
