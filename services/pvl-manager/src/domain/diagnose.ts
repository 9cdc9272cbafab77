import type { Condition } from "./spec.js";

/** The seed's troubleshooting table, as the fix printed next to each condition. */
export const FIXES: Record<string, string> = {
  Provisioning: "The PrivateLink resources are still being provisioned: wait a few minutes and check again.",
  ZoneMismatch:
    "Cross-VPC zone matching: ackVpcEndpoint[].vSwitches[].zoneId must be a zone of an ASM-side vSwitch, asmVpcEndpoint.vSwitches[].zoneId a zone of the cluster's vSwitch.",
  ServiceNotActivated: "Activate the PrivateLink service in this region.",
  QuotaExceeded: "Raise the PrivateLink quota in the VPC console (or remove unused endpoints); reconciliation resumes by itself.",
  ApiServerCertificateSAN: "Add the pvlEndpoint.domainName from status.clusters to the custom SAN of the cluster's API server certificate.",
  InvalidName: 'Only an ASMPvlConfig named "default" is supported.',
  UnknownCluster: "Add the cluster to the ASM instance first, or correct clusterId.",
  UnknownVSwitch: "Use a vSwitch that exists in that VPC.",
  Duplicate: "List every cluster and every vSwitch once.",
  MalformedSpec: "Fix the spec to match the ASMPvlConfig schema.",
};

export function condition(type: string, status: Condition["status"], reason: string, message: string, now = new Date()): Condition {
  return { type, status, reason, message, lastTransitionTime: now.toISOString() };
}

/** Keep lastTransitionTime when nothing about a condition changed, so status writes are stable. */
export function carryTransitionTimes(next: Condition[], prev: Condition[] | undefined): Condition[] {
  return next.map((c) => {
    const p = prev?.find((x) => x.type === c.type);
    return p && p.status === c.status && p.reason === c.reason && p.message === c.message ? { ...c, lastTransitionTime: p.lastTransitionTime } : c;
  });
}
