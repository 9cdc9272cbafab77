import { type ConfigKindKey, configKinds } from "@isthmus/events";
import { asmMeshConfigSchema, asmPvlConfigSchema, type SchemaIssue, zodIssues } from "./asm.js";

/** Checks one object against its kind's published schema; resolves to the violations (empty when valid). */
export type SchemaCheck = (obj: Record<string, unknown>) => Promise<SchemaIssue[]>;

export interface KindInfo {
  /** The subject key (see configKinds in libs/events). */
  key: ConfigKindKey;
  group: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Served versions, newest first, each with its schema check. */
  versions: Record<string, SchemaCheck>;
  /** Short names accepted by `isthmus get`, as kubectl's. */
  shortNames: string[];
}

interface ModelClass {
  new (data: Record<string, unknown>): { validate(): void };
}

/**
 * The published CRD schemas of Istio and the Gateway API, as @kubernetes-models ships them
 * (compiled OpenAPI v3 validators); each violation with its JSON path. Each is loaded on
 * first use: together they cost more than a second of CPU to load, and most commands need
 * one or two.
 */
function modelCheck(load: () => Promise<Record<string, unknown>>, name: string): SchemaCheck {
  let cls: Promise<ModelClass> | undefined;
  return async (obj) => {
    cls ??= load().then((mod) => mod[name] as ModelClass);
    const Model = await cls;
    try {
      new Model(obj).validate();
      return [];
    } catch (err) {
      const e = err as { errors?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>; message?: string };
      if (!e.errors?.length) return [{ path: "", message: String(e.message ?? err) }];
      return e.errors.map((x) => {
        const path = (x.instancePath ?? "").replace(/^\//, "").split("/").filter(Boolean).join(".");
        const missing = typeof x.params?.missingProperty === "string" ? x.params.missingProperty : undefined;
        return { path: missing ? (path ? `${path}.${missing}` : missing) : path, message: x.message ?? "invalid" };
      });
    }
  };
}

const m = (load: () => Promise<unknown>, name: string) => modelCheck(load as () => Promise<Record<string, unknown>>, name);
const NET = "networking.istio.io";
const SEC = "security.istio.io";
const GW = "gateway.networking.k8s.io";

export const KINDS: readonly KindInfo[] = [
  {
    key: "VirtualService",
    group: NET,
    kind: "VirtualService",
    plural: "virtualservices",
    namespaced: true,
    shortNames: ["vs"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/VirtualService"), "VirtualService"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService"), "VirtualService"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/VirtualService"), "VirtualService"),
    },
  },
  {
    key: "DestinationRule",
    group: NET,
    kind: "DestinationRule",
    plural: "destinationrules",
    namespaced: true,
    shortNames: ["dr"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/DestinationRule"), "DestinationRule"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule"), "DestinationRule"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/DestinationRule"), "DestinationRule"),
    },
  },
  {
    key: "Gateway",
    group: NET,
    kind: "Gateway",
    plural: "gateways",
    namespaced: true,
    shortNames: ["gw"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/Gateway"), "Gateway"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway"), "Gateway"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/Gateway"), "Gateway"),
    },
  },
  {
    key: "ServiceEntry",
    group: NET,
    kind: "ServiceEntry",
    plural: "serviceentries",
    namespaced: true,
    shortNames: ["se"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry"), "ServiceEntry"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/ServiceEntry"), "ServiceEntry"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/ServiceEntry"), "ServiceEntry"),
    },
  },
  {
    key: "WorkloadEntry",
    group: NET,
    kind: "WorkloadEntry",
    plural: "workloadentries",
    namespaced: true,
    shortNames: ["we"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/WorkloadEntry"), "WorkloadEntry"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/WorkloadEntry"), "WorkloadEntry"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/WorkloadEntry"), "WorkloadEntry"),
    },
  },
  {
    key: "WorkloadGroup",
    group: NET,
    kind: "WorkloadGroup",
    plural: "workloadgroups",
    namespaced: true,
    shortNames: ["wg"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/WorkloadGroup"), "WorkloadGroup"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/WorkloadGroup"), "WorkloadGroup"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/WorkloadGroup"), "WorkloadGroup"),
    },
  },
  {
    key: "Sidecar",
    group: NET,
    kind: "Sidecar",
    plural: "sidecars",
    namespaced: true,
    shortNames: [],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1/Sidecar"), "Sidecar"),
      v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/Sidecar"), "Sidecar"),
      v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/Sidecar"), "Sidecar"),
    },
  },
  {
    key: "EnvoyFilter",
    group: NET,
    kind: "EnvoyFilter",
    plural: "envoyfilters",
    namespaced: true,
    shortNames: [],
    versions: { v1alpha3: m(() => import("@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter"), "EnvoyFilter") },
  },
  {
    key: "ProxyConfig",
    group: NET,
    kind: "ProxyConfig",
    plural: "proxyconfigs",
    namespaced: true,
    shortNames: [],
    versions: { v1beta1: m(() => import("@kubernetes-models/istio/networking.istio.io/v1beta1/ProxyConfig"), "ProxyConfig") },
  },
  {
    key: "PeerAuthentication",
    group: SEC,
    kind: "PeerAuthentication",
    plural: "peerauthentications",
    namespaced: true,
    shortNames: ["pa"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication"), "PeerAuthentication"),
      v1beta1: m(() => import("@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication"), "PeerAuthentication"),
    },
  },
  {
    key: "AuthorizationPolicy",
    group: SEC,
    kind: "AuthorizationPolicy",
    plural: "authorizationpolicies",
    namespaced: true,
    shortNames: ["ap"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy"), "AuthorizationPolicy"),
      v1beta1: m(() => import("@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy"), "AuthorizationPolicy"),
    },
  },
  {
    key: "RequestAuthentication",
    group: SEC,
    kind: "RequestAuthentication",
    plural: "requestauthentications",
    namespaced: true,
    shortNames: ["ra"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication"), "RequestAuthentication"),
      v1beta1: m(() => import("@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication"), "RequestAuthentication"),
    },
  },
  {
    key: "Telemetry",
    group: "telemetry.istio.io",
    kind: "Telemetry",
    plural: "telemetries",
    namespaced: true,
    shortNames: ["telemetry"],
    versions: {
      v1: m(() => import("@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry"), "Telemetry"),
      v1alpha1: m(() => import("@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry"), "Telemetry"),
    },
  },
  {
    key: "WasmPlugin",
    group: "extensions.istio.io",
    kind: "WasmPlugin",
    plural: "wasmplugins",
    namespaced: true,
    shortNames: [],
    versions: { v1alpha1: m(() => import("@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin"), "WasmPlugin") },
  },
  {
    key: "ASMMeshConfig",
    group: "istio.alibabacloud.com",
    kind: "ASMMeshConfig",
    plural: "asmmeshconfigs",
    namespaced: false,
    shortNames: [],
    versions: { v1beta1: async (o) => zodIssues(asmMeshConfigSchema, o) },
  },
  {
    key: "ASMPvlConfig",
    group: "istio.alibabacloud.com",
    kind: "ASMPvlConfig",
    plural: "asmpvlconfigs",
    namespaced: false,
    shortNames: [],
    versions: { v1beta1: async (o) => zodIssues(asmPvlConfigSchema, o) },
  },
  {
    key: "GatewayClass.gateway.networking.k8s.io",
    group: GW,
    kind: "GatewayClass",
    plural: "gatewayclasses",
    namespaced: false,
    shortNames: ["gc"],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass"), "GatewayClass"),
      v1beta1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/GatewayClass"), "GatewayClass"),
    },
  },
  {
    key: "Gateway.gateway.networking.k8s.io",
    group: GW,
    kind: "Gateway",
    plural: "gateways",
    namespaced: true,
    shortNames: [],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway"), "Gateway"),
      v1beta1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/Gateway"), "Gateway"),
    },
  },
  {
    key: "HTTPRoute.gateway.networking.k8s.io",
    group: GW,
    kind: "HTTPRoute",
    plural: "httproutes",
    namespaced: true,
    shortNames: [],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute"), "HTTPRoute"),
      v1beta1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/HTTPRoute"), "HTTPRoute"),
    },
  },
  {
    key: "GRPCRoute.gateway.networking.k8s.io",
    group: GW,
    kind: "GRPCRoute",
    plural: "grpcroutes",
    namespaced: true,
    shortNames: [],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRoute"), "GRPCRoute"),
      v1alpha2: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/GRPCRoute"), "GRPCRoute"),
    },
  },
  {
    key: "TCPRoute.gateway.networking.k8s.io",
    group: GW,
    kind: "TCPRoute",
    plural: "tcproutes",
    namespaced: true,
    shortNames: [],
    versions: { v1alpha2: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute"), "TCPRoute") },
  },
  {
    key: "TLSRoute.gateway.networking.k8s.io",
    group: GW,
    kind: "TLSRoute",
    plural: "tlsroutes",
    namespaced: true,
    shortNames: [],
    versions: {
      v1alpha3: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha3/TLSRoute"), "TLSRoute"),
      v1alpha2: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TLSRoute"), "TLSRoute"),
    },
  },
  {
    key: "UDPRoute.gateway.networking.k8s.io",
    group: GW,
    kind: "UDPRoute",
    plural: "udproutes",
    namespaced: true,
    shortNames: [],
    versions: { v1alpha2: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute"), "UDPRoute") },
  },
  {
    key: "ReferenceGrant.gateway.networking.k8s.io",
    group: GW,
    kind: "ReferenceGrant",
    plural: "referencegrants",
    namespaced: true,
    shortNames: ["refgrant"],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrant"), "ReferenceGrant"),
      v1beta1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant"), "ReferenceGrant"),
    },
  },
  {
    key: "BackendTLSPolicy.gateway.networking.k8s.io",
    group: GW,
    kind: "BackendTLSPolicy",
    plural: "backendtlspolicies",
    namespaced: true,
    shortNames: ["btlspolicy"],
    versions: {
      v1: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicy"), "BackendTLSPolicy"),
      v1alpha3: m(() => import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha3/BackendTLSPolicy"), "BackendTLSPolicy"),
    },
  },
];

const byKey = new Map<string, KindInfo>(KINDS.map((k) => [k.key, k]));
if (byKey.size !== configKinds.length || configKinds.some((k) => !byKey.has(k))) {
  throw new Error("libs/config KINDS and libs/events configKinds disagree");
}

export function kindByKey(key: string): KindInfo | undefined {
  return byKey.get(key);
}

/** The kind an object's apiVersion + kind name, e.g. networking.istio.io/v1 VirtualService. */
export function kindOf(apiVersion: string, kind: string): { info: KindInfo; version: string } | undefined {
  const slash = apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const info = KINDS.find((k) => k.group === group && k.kind === kind);
  return info ? { info, version } : undefined;
}

/**
 * What `isthmus get` accepts, as kubectl: the kind, its plural, singular or short name,
 * any case, optionally `.group`-qualified (`gateways.gateway.networking.k8s.io`). Istio's
 * kinds win an unqualified name they share with the Gateway API (`gateway`), as istioctl.
 */
export function resolveKindName(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  const dot = n.indexOf(".");
  const base = dot < 0 ? n : n.slice(0, dot);
  const group = dot < 0 ? undefined : n.slice(dot + 1);
  const matches = KINDS.filter(
    (k) =>
      (group === undefined || k.group === group) &&
      (k.kind.toLowerCase() === base || k.plural === base || k.shortNames.includes(base) || `${k.kind.toLowerCase()}s` === base),
  );
  return matches.find((k) => k.group !== GW) ?? matches[0];
}
