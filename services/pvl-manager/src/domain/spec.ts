import { z } from "zod";

export const PVL_GROUP = "istio.alibabacloud.com";
export const PVL_VERSION = "v1beta1";
export const PVL_PLURAL = "asmpvlconfigs";
export const PVL_KIND = "ASMPvlConfig";
export const PVL_FINALIZER = "istio.alibabacloud.com/pvl-cleanup";

const vSwitch = z.object({ vSwitchId: z.string().min(1), zoneId: z.string().min(1) });

export const pvlSpecSchema = z.object({
  ackVpcEndpoint: z.array(z.object({ clusterId: z.string().min(1), vSwitches: z.array(vSwitch).min(1) })).min(1),
  asmVpcEndpoint: z.object({ vSwitches: z.array(vSwitch).min(1) }),
});
export type PvlSpec = z.infer<typeof pvlSpecSchema>;

export interface PvlEndpointStatus {
  connectionStatus: string;
  domainName: string;
  id: string;
  status: string;
}
export interface PvlServiceStatus {
  id: string;
  name: string;
  status: string;
}
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The status block, field for field as seed 004 shows it (conditions only when there is something to say). */
export interface PvlStatus {
  clusters?: Array<{ clusterId: string; pvlEndpoint?: PvlEndpointStatus; pvlEndpointService?: PvlServiceStatus }>;
  pilot?: { clusters: Array<{ clusterId: string; pvlEndpoint?: PvlEndpointStatus }>; pvlEndpointService?: PvlServiceStatus };
  status: string;
  conditions?: Condition[];
}

export interface PvlConfigObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string; resourceVersion?: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string };
  spec?: unknown;
  status?: PvlStatus;
}
