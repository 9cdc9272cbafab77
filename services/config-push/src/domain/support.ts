import { ASM_SUPPORT, type SupportTable } from "@isthmus/config";

// cluster-policy.ts: every setting a trafficPolicy (or one of its portLevelSettings) carries.
const POLICY_SETTINGS = [
  "loadBalancer.simple",
  "loadBalancer.consistentHash",
  "loadBalancer.consistentHash.httpHeaderName",
  "loadBalancer.consistentHash.httpCookie.name",
  "loadBalancer.consistentHash.httpCookie.path",
  "loadBalancer.consistentHash.httpCookie.ttl",
  "loadBalancer.consistentHash.useSourceIp",
  "loadBalancer.consistentHash.httpQueryParameterName",
  "loadBalancer.consistentHash.ringHash.minimumRingSize",
  "loadBalancer.consistentHash.maglev.tableSize",
  "loadBalancer.consistentHash.minimumRingSize",
  "loadBalancer.warmupDurationSecs",
  "outlierDetection.consecutive5xxErrors",
  "outlierDetection.consecutiveGatewayErrors",
  "outlierDetection.interval",
  "outlierDetection.baseEjectionTime",
  "outlierDetection.maxEjectionPercent",
  "connectionPool.tcp.maxConnections",
  "connectionPool.tcp.connectTimeout",
  "connectionPool.tcp.tcpKeepalive.probes",
  "connectionPool.tcp.tcpKeepalive.time",
  "connectionPool.tcp.tcpKeepalive.interval",
  "connectionPool.tcp.maxConnectionDuration",
  "connectionPool.tcp.idleTimeout",
  "connectionPool.http.http1MaxPendingRequests",
  "connectionPool.http.http2MaxRequests",
  "connectionPool.http.maxRequestsPerConnection",
  "connectionPool.http.maxRetries",
  "connectionPool.http.idleTimeout",
  "connectionPool.http.maxConcurrentStreams",
  "tls.mode",
  "tls.caCertificates",
  "tls.clientCertificate",
  "tls.privateKey",
  "tls.sni",
  "tls.subjectAltNames[]",
  "tls.insecureSkipVerify",
];
const TRAFFIC_POLICY = [
  ...POLICY_SETTINGS,
  "portLevelSettings[]",
  "portLevelSettings[].port.number",
  ...POLICY_SETTINGS.map((f) => `portLevelSettings[].${f}`),
];

// Read only to refuse the DestinationRule with this reason (cluster-policy.ts).
const REFUSED: Record<string, string> = {
  "loadBalancer.localityLbSetting": "localityLbSetting is not supported: the DestinationRule is skipped",
  "connectionPool.http.h2UpgradePolicy": "h2UpgradePolicy is not supported: the DestinationRule is skipped",
  "connectionPool.http.useClientProtocol": "useClientProtocol is not supported: the DestinationRule is skipped",
  "tls.credentialName": "credentialName is not supported (config-push serves no Kubernetes secrets): the DestinationRule is skipped",
  proxyProtocol: "proxyProtocol is not supported: the DestinationRule is skipped",
  tunnel: "tunnel is not supported: the DestinationRule is skipped",
};
const POLICY_AT = ["spec.trafficPolicy", "spec.subsets[].trafficPolicy"].flatMap((p) => [p, `${p}.portLevelSettings[]`]);
const DR_GUARDS = Object.fromEntries(POLICY_AT.flatMap((at) => Object.entries(REFUSED).map(([f, why]) => [`${at}.${f}`, why])));

const LB_VALUES = { honoured: ["ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN", "RANDOM"], otherwise: "ROUND_ROBIN is used" };
const TLS_VALUES = { honoured: ["ISTIO_MUTUAL", "DISABLE", "SIMPLE", "MUTUAL"], otherwise: "the namespace's mTLS mode decides" };
const DESTINATION = ["destination.host", "destination.subset", "destination.port.number"];
// http-features.ts: rewrite, redirect, mirrors, header operations, CORS; retries in full.
const HTTP_FEATURES = [
  "retries.retryRemoteLocalities",
  "retries.retryIgnorePreviousHosts",
  "retries.backoff",
  "rewrite.uri",
  "rewrite.authority",
  "rewrite.uriRegexRewrite.match",
  "rewrite.uriRegexRewrite.rewrite",
  "redirect.uri",
  "redirect.authority",
  "redirect.port",
  "redirect.derivePort",
  "redirect.scheme",
  "redirect.redirectCode",
  "mirror.host",
  "mirror.subset",
  "mirror.port.number",
  "mirrorPercentage.value",
  "mirrors[]",
  ...DESTINATION.map((f) => `mirrors[].${f}`),
  "mirrors[].percentage.value",
  ...["request", "response"].flatMap((d) => [`headers.${d}.set.*`, `headers.${d}.add.*`, `headers.${d}.remove[]`]),
  "corsPolicy.allowOrigins[]",
  "corsPolicy.allowOrigins[].exact",
  "corsPolicy.allowOrigins[].prefix",
  "corsPolicy.allowOrigins[].regex",
  "corsPolicy.allowMethods[]",
  "corsPolicy.allowHeaders[]",
  "corsPolicy.exposeHeaders[]",
  "corsPolicy.maxAge",
  "corsPolicy.allowCredentials",
  "corsPolicy.unmatchedPreflights",
];
// tcp.ts: tcp and tls routes.
const L4 = (kind: "tcp" | "tls") => [
  `spec.${kind}[]`,
  `spec.${kind}[].match[]`,
  `spec.${kind}[].match[].port`,
  `spec.${kind}[].match[].gateways[]`,
  ...(kind === "tls" ? ["spec.tls[].match[].sniHosts[]"] : []),
  `spec.${kind}[].route[]`,
  ...DESTINATION.map((f) => `spec.${kind}[].route[].${f}`),
  `spec.${kind}[].route[].weight`,
];

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
      ...HTTP_FEATURES.map((f) => `spec.http[].${f}`),
      ...L4("tcp"),
      ...L4("tls"),
    ],
  },
  DestinationRule: {
    fields: [
      "spec.host",
      ...TRAFFIC_POLICY.map((f) => `spec.trafficPolicy.${f}`),
      "spec.subsets[]",
      "spec.subsets[].name",
      "spec.subsets[].labels.*",
      ...TRAFFIC_POLICY.map((f) => `spec.subsets[].trafficPolicy.${f}`),
    ],
    values: {
      "spec.trafficPolicy.loadBalancer.simple": LB_VALUES,
      "spec.subsets[].trafficPolicy.loadBalancer.simple": LB_VALUES,
      "spec.trafficPolicy.tls.mode": TLS_VALUES,
      "spec.subsets[].trafficPolicy.tls.mode": TLS_VALUES,
    },
    guards: DR_GUARDS,
  },
  // tcp.ts: the mesh-wide outboundTrafficPolicy (a Sidecar in istio-system without a workload selector).
  Sidecar: {
    fields: ["spec.outboundTrafficPolicy.mode", "spec.workloadSelector"],
    values: { "spec.outboundTrafficPolicy.mode": { honoured: ["ALLOW_ANY", "REGISTRY_ONLY"], otherwise: "ALLOW_ANY applies" } },
  },
  // rate-limit.ts
  ASMLocalRateLimiter: {
    fields: [
      "spec.workloadSelector.labels.*",
      "spec.isGateway",
      "spec.configs[]",
      "spec.configs[].match.vhost.port",
      "spec.configs[].limit.fill_interval",
      "spec.configs[].limit.fill_interval.seconds",
      "spec.configs[].limit.fill_interval.nanos",
      "spec.configs[].limit.quota",
      "spec.configs[].limit.per_downstream_connection",
    ],
    guards: {
      "spec.configs[].limit_overrides": "limit_overrides are not supported: that config is skipped",
      "spec.configs[].match.vhost.route": "route matches are not supported: that config is skipped",
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
