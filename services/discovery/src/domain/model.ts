/** The slices of Kubernetes objects discovery reads, as plain data (no client types in domain/). */

export type ClusterMode = "managed" | "discovery-only" | "remote-control-plane";

export interface ClusterMeta {
  id: string;
  mode: ClusterMode;
  network: string;
  region: string;
  zone: string;
}

export interface ServicePortSpec {
  name?: string | undefined;
  port?: number | undefined;
  targetPort?: number | string | undefined;
  protocol?: string | undefined;
  appProtocol?: string | undefined;
}

export interface ServiceObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { ports?: ServicePortSpec[]; type?: string; clusterIP?: string };
}

export interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: string; name?: string; namespace?: string };
  nodeName?: string;
  zone?: string;
}

export interface EndpointSliceObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }> | null;
  endpoints?: SliceEndpoint[] | null;
}

export interface PodObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { serviceAccountName?: string; nodeName?: string };
}

export interface NodeObject {
  metadata: { name?: string; labels?: Record<string, string> };
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const NETWORK_LABEL = "topology.istio.io/network";
export const REGION_LABEL = "topology.kubernetes.io/region";
export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const SUBZONE_LABEL = "topology.istio.io/subzone";
