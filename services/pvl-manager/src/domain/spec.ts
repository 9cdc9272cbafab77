import { type PvlSpec, pvlSpecSchema } from "@isthmus/config";

export { type PvlSpec, pvlSpecSchema };

export const PVL_GROUP = "istio.alibabacloud.com";
export const PVL_VERSION = "v1beta1";
export const PVL_PLURAL = "asmpvlconfigs";
export const PVL_KIND = "ASMPvlConfig";
export const PVL_FINALIZER = "istio.alibabacloud.com/pvl-cleanup";

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
