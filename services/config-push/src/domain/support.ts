import { ASM_SUPPORT, type SupportTable } from "@isthmus/config";

const TRAFFIC_POLICY = [
  "loadBalancer.simple",
  "loadBalancer.consistentHash",
  "outlierDetection.consecutive5xxErrors",
  "outlierDetection.consecutiveGatewayErrors",
  "outlierDetection.interval",
  "outlierDetection.baseEjectionTime",
  "outlierDetection.maxEjectionPercent",
  "connectionPool.http.http2MaxRequests",
];

const LB_VALUES = { honoured: ["ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN"], otherwise: "ROUND_ROBIN is used" };

/**
 * What the translation (traffic.ts, security.ts, mesh-model.ts) honours of each kind: the
 * one list admission reports against. `support.test.ts` runs the translation over recorded
 * objects and fails when it reads a field this list does not declare, or when the list
 * declares one nothing reads. Kinds absent here are stored and reported as not translated.
 */
export const CONFIG_PUSH_SUPPORT: SupportTable = {
  VirtualService: {
    fields: [
      "spec.hosts[]",
      "spec.http[]",
      "spec.http[].name",
      "spec.http[].match[]",
      "spec.http[].match[].uri.exact",
      "spec.http[].match[].uri.prefix",
      "spec.http[].match[].uri.regex",
      "spec.http[].match[].headers.*.exact",
      "spec.http[].match[].headers.*.prefix",
      "spec.http[].match[].headers.*.regex",
      "spec.http[].route[]",
      "spec.http[].route[].destination.host",
      "spec.http[].route[].destination.subset",
      "spec.http[].route[].destination.port.number",
      "spec.http[].route[].weight",
      "spec.http[].timeout",
      "spec.http[].retries.attempts",
      "spec.http[].retries.perTryTimeout",
      "spec.http[].retries.retryOn",
      "spec.http[].fault.abort.percentage.value",
      "spec.http[].fault.abort.httpStatus",
      "spec.http[].fault.abort.grpcStatus",
      "spec.http[].fault.delay.percentage.value",
      "spec.http[].fault.delay.fixedDelay",
    ],
  },
  DestinationRule: {
    fields: [
      "spec.host",
      ...TRAFFIC_POLICY.map((f) => `spec.trafficPolicy.${f}`),
      "spec.trafficPolicy.tls.mode",
      "spec.subsets[]",
      "spec.subsets[].name",
      "spec.subsets[].labels.*",
      ...TRAFFIC_POLICY.map((f) => `spec.subsets[].trafficPolicy.${f}`),
    ],
    values: {
      "spec.trafficPolicy.loadBalancer.simple": LB_VALUES,
      "spec.subsets[].trafficPolicy.loadBalancer.simple": LB_VALUES,
      "spec.trafficPolicy.tls.mode": { honoured: ["ISTIO_MUTUAL", "DISABLE"], otherwise: "TLS origination is not supported yet: clients use plaintext" },
    },
  },
  PeerAuthentication: {
    fields: ["spec.mtls.mode"],
    values: { "spec.mtls.mode": { honoured: ["STRICT", "PERMISSIVE", "DISABLE", "UNSET"], otherwise: "the namespace's (or mesh's) mode applies" } },
    guards: { "spec.selector": "workload-level PeerAuthentication is not applied yet: this object has no effect" },
  },
};

/** What every consumer of mesh configuration honours: admission reports against this. */
export const MESH_SUPPORT: SupportTable = { ...CONFIG_PUSH_SUPPORT, ...ASM_SUPPORT };
