import { createHash } from "node:crypto";
import type { PvlSpec } from "./spec.js";
import type { CloudTopology } from "./topology.js";

export type DesiredResource =
  | { kind: "service"; key: string; clientToken: string; loadBalancerId: string; zones: string[]; role: "apiserver" | "pilot"; clusterId?: string }
  | {
      kind: "endpoint";
      key: string;
      clientToken: string;
      vpcId: string;
      serviceKey: string;
      vSwitches: Array<{ id: string; zone: string }>;
      role: "apiserver" | "pilot";
      clusterId: string;
    };

/** Deterministic: the same resource of the same config always gets the same token, so a repeated create after a crash returns the first one. */
export function clientToken(owner: string, key: string): string {
  return `isthmus-${createHash("sha256").update(owner).update("\0").update(key).digest("hex").slice(0, 40)}`;
}

/**
 * What must exist for a valid spec: per cluster, an endpoint service in front of its API
 * server's load balancer and an endpoint in the ASM VPC; one endpoint service for the
 * control plane (pilot) and an endpoint in each cluster's VPC.
 */
export function desiredResources(owner: string, spec: PvlSpec, topo: CloudTopology): DesiredResource[] {
  const out: DesiredResource[] = [];
  const actual = (list: Array<{ id: string; zone: string }>, id: string) => list.find((x) => x.id === id)?.zone;
  // A service sits in the real zones of its own side's vSwitches; an endpoint asks for the
  // zones its spec entry names, i.e. the other side's zones (cross-VPC zone matching).
  const asmActual = [...new Set(spec.asmVpcEndpoint.vSwitches.map((v) => actual(topo.asm.vSwitches, v.vSwitchId) ?? v.zoneId))];
  const asmEndpointVs = spec.asmVpcEndpoint.vSwitches.map((v) => ({ id: v.vSwitchId, zone: v.zoneId }));
  out.push({
    kind: "service",
    key: "pilot",
    clientToken: clientToken(owner, "service/pilot"),
    loadBalancerId: topo.asm.controlPlaneLoadBalancerId,
    zones: asmActual,
    role: "pilot",
  });
  for (const e of spec.ackVpcEndpoint) {
    const c = topo.clusters[e.clusterId];
    if (!c) continue;
    const clusterActual = [...new Set(e.vSwitches.map((v) => actual(c.vSwitches, v.vSwitchId) ?? v.zoneId))];
    const svcKey = `apiserver/${e.clusterId}`;
    out.push({
      kind: "service",
      key: svcKey,
      clientToken: clientToken(owner, `service/${svcKey}`),
      loadBalancerId: c.apiServerLoadBalancerId,
      zones: clusterActual,
      role: "apiserver",
      clusterId: e.clusterId,
    });
    out.push({
      kind: "endpoint",
      key: `apiserver/${e.clusterId}`,
      clientToken: clientToken(owner, `endpoint/apiserver/${e.clusterId}`),
      vpcId: topo.asm.vpcId,
      serviceKey: svcKey,
      vSwitches: asmEndpointVs,
      role: "apiserver",
      clusterId: e.clusterId,
    });
    out.push({
      kind: "endpoint",
      key: `pilot/${e.clusterId}`,
      clientToken: clientToken(owner, `endpoint/pilot/${e.clusterId}`),
      vpcId: c.vpcId,
      serviceKey: "pilot",
      vSwitches: e.vSwitches.map((v) => ({ id: v.vSwitchId, zone: v.zoneId })),
      role: "pilot",
      clusterId: e.clusterId,
    });
  }
  return out;
}
