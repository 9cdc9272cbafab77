import { TYPE, type TypeUrl } from "./resources/type-urls.js";

/** What the protocol says about one resource type; the one table every module reads. */
export interface TypeDescriptor {
  url: TypeUrl;
  /** Istio's column name in proxy-status and /debug/syncz. */
  short: "CDS" | "LDS" | "EDS" | "RDS" | "SDS";
  /** The `type` label of Istio's pilot_* metrics. */
  metric: "cds" | "lds" | "eds" | "rds" | "sds";
  /** An empty name list in state of the world means "all of them" (Envoy's wildcard LDS/CDS). */
  wildcardInSotw: boolean;
  /** A state-of-the-world response must carry every resource (a missing one is a removal). */
  fullStateInSotw: boolean;
}

export const TYPE_DESCRIPTORS: readonly TypeDescriptor[] = [
  { url: TYPE.cluster, short: "CDS", metric: "cds", wildcardInSotw: true, fullStateInSotw: true },
  { url: TYPE.listener, short: "LDS", metric: "lds", wildcardInSotw: true, fullStateInSotw: true },
  { url: TYPE.endpoint, short: "EDS", metric: "eds", wildcardInSotw: false, fullStateInSotw: false },
  { url: TYPE.route, short: "RDS", metric: "rds", wildcardInSotw: false, fullStateInSotw: false },
  { url: TYPE.secret, short: "SDS", metric: "sds", wildcardInSotw: false, fullStateInSotw: false },
];

const BY_URL = new Map<string, TypeDescriptor>(TYPE_DESCRIPTORS.map((d) => [d.url, d]));

/** The descriptor of a type URL a client sent; undefined for a type this server does not serve. */
export function typeDescriptor(url: string): TypeDescriptor | undefined {
  return BY_URL.get(url);
}
