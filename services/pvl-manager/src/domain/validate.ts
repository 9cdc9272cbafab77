import { z } from "zod";
import { type PvlSpec, pvlSpecSchema } from "./spec.js";
import type { CloudTopology } from "./topology.js";

export interface SpecProblem {
  reason: "InvalidName" | "MalformedSpec" | "UnknownCluster" | "UnknownVSwitch" | "ZoneMismatch" | "Duplicate";
  message: string;
}

/**
 * Seed 004's rules. `metadata.name` must be `default`. Cross-VPC zone matching: a zoneId
 * under ackVpcEndpoint names the zone of an ASM-side vSwitch, a zoneId under
 * asmVpcEndpoint the zone of that cluster's vSwitch — PrivateLink needs a zone both sides
 * share. Every problem says what to change; an invalid spec provisions nothing.
 */
export function validateSpec(name: string, raw: unknown, topo: CloudTopology): { spec?: PvlSpec; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  if (name !== "default")
    problems.push({ reason: "InvalidName", message: `metadata.name is "${name}"; only "default" is supported: rename the resource to default` });
  const parsed = pvlSpecSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push({ reason: "MalformedSpec", message: `spec is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}` });
    return { problems };
  }
  const spec = parsed.data;
  const asmById = new Map(topo.asm.vSwitches.map((v) => [v.id, v.zone]));
  const seenClusters = new Set<string>();
  const seenAsm = new Set<string>();
  for (const v of spec.asmVpcEndpoint.vSwitches) {
    if (seenAsm.has(v.vSwitchId)) problems.push({ reason: "Duplicate", message: `asmVpcEndpoint lists vSwitch ${v.vSwitchId} twice: remove the duplicate` });
    seenAsm.add(v.vSwitchId);
    if (!asmById.has(v.vSwitchId)) {
      problems.push({
        reason: "UnknownVSwitch",
        message: `asmVpcEndpoint vSwitch ${v.vSwitchId} does not exist in the ASM instance's VPC ${topo.asm.vpcId}: use one of ${[...asmById.keys()].join(", ")}`,
      });
    }
  }
  // Zones where the vSwitches this spec puts on the ASM side really are.
  const asmZones = new Set(spec.asmVpcEndpoint.vSwitches.map((v) => asmById.get(v.vSwitchId)).filter((z): z is string => Boolean(z)));
  for (const entry of spec.ackVpcEndpoint) {
    if (seenClusters.has(entry.clusterId))
      problems.push({ reason: "Duplicate", message: `ackVpcEndpoint lists cluster ${entry.clusterId} twice: merge the entries` });
    seenClusters.add(entry.clusterId);
    const cluster = topo.clusters[entry.clusterId];
    if (!cluster) {
      problems.push({
        reason: "UnknownCluster",
        message: `cluster ${entry.clusterId} is not added to this ASM instance: add it first, or fix the clusterId (known: ${Object.keys(topo.clusters).join(", ") || "none"})`,
      });
      continue;
    }
    const ackById = new Map(cluster.vSwitches.map((v) => [v.id, v.zone]));
    const seen = new Set<string>();
    for (const v of entry.vSwitches) {
      if (seen.has(v.vSwitchId))
        problems.push({ reason: "Duplicate", message: `ackVpcEndpoint for ${entry.clusterId} lists vSwitch ${v.vSwitchId} twice: remove the duplicate` });
      seen.add(v.vSwitchId);
      if (!ackById.has(v.vSwitchId)) {
        problems.push({
          reason: "UnknownVSwitch",
          message: `vSwitch ${v.vSwitchId} does not exist in the VPC ${cluster.vpcId} of cluster ${entry.clusterId}: use one of ${[...ackById.keys()].join(", ")}`,
        });
      }
      if (asmZones.size && !asmZones.has(v.zoneId)) {
        problems.push({
          reason: "ZoneMismatch",
          message: `ackVpcEndpoint ${entry.clusterId}/${v.vSwitchId}: zoneId ${v.zoneId} is not a zone of the ASM-side vSwitches (${[...asmZones].join(", ")}); set zoneId to the zone of an ASM vSwitch (cross-VPC zone matching)`,
        });
      }
    }
    const clusterZones = new Set(entry.vSwitches.map((v) => ackById.get(v.vSwitchId)).filter((z): z is string => Boolean(z)));
    for (const v of spec.asmVpcEndpoint.vSwitches) {
      if (clusterZones.size && !clusterZones.has(v.zoneId)) {
        problems.push({
          reason: "ZoneMismatch",
          message: `asmVpcEndpoint ${v.vSwitchId}: zoneId ${v.zoneId} is not a zone of cluster ${entry.clusterId}'s vSwitches (${[...clusterZones].join(", ")}); set zoneId to the zone of that cluster's vSwitch (cross-VPC zone matching)`,
        });
      }
    }
  }
  return problems.length ? { problems } : { spec, problems };
}
