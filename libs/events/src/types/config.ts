import { z } from "zod";
import { defineEvent } from "../registry.js";
import { k8sName } from "./common.js";

/**
 * Every kind of mesh configuration the admission path knows, by its subject key: Istio's
 * and ASM's kinds by name; the Gateway API's qualified by group, since `Gateway` is a kind
 * of both Istio and the Gateway API. Which of them the translation honours, and how much,
 * is said by admission (libs/config), never silently.
 */
export const configKinds = [
  // networking.istio.io
  "VirtualService",
  "DestinationRule",
  "Gateway",
  "ServiceEntry",
  "WorkloadEntry",
  "WorkloadGroup",
  "Sidecar",
  "EnvoyFilter",
  "ProxyConfig",
  // security.istio.io
  "PeerAuthentication",
  "AuthorizationPolicy",
  "RequestAuthentication",
  // telemetry.istio.io
  "Telemetry",
  // extensions.istio.io
  "WasmPlugin",
  // istio.alibabacloud.com
  "ASMMeshConfig",
  "ASMPvlConfig",
  // gateway.networking.k8s.io
  "GatewayClass.gateway.networking.k8s.io",
  "Gateway.gateway.networking.k8s.io",
  "HTTPRoute.gateway.networking.k8s.io",
  "GRPCRoute.gateway.networking.k8s.io",
  "TCPRoute.gateway.networking.k8s.io",
  "TLSRoute.gateway.networking.k8s.io",
  "UDPRoute.gateway.networking.k8s.io",
  "ReferenceGrant.gateway.networking.k8s.io",
  "BackendTLSPolicy.gateway.networking.k8s.io",
] as const;
export type ConfigKindKey = (typeof configKinds)[number];

const admissionMessage = z.object({
  code: z.string().min(1).max(16),
  name: z.string().max(128),
  level: z.enum(["Error", "Warning", "Info"]),
  message: z.string().max(4096),
  path: z.string().max(1024).optional(),
});

export const configResourceV1 = defineEvent({
  type: "io.isthmus.config.resource.v1",
  domain: "config",
  kind: "state",
  description:
    "One mesh configuration object (Istio, Gateway API or ASM resource) after admission, from the mesh's config cluster, `isthmus apply` or a watched config directory.",
  path: [":kind", ":namespace", ":name"],
  schema: z.object({
    apiVersion: z.string().min(1),
    kind: z.enum(configKinds).describe("the kind's subject key (Gateway API kinds are qualified by group)"),
    namespace: z.string().max(253).describe("empty for cluster-scoped kinds (ASMMeshConfig, ASMPvlConfig, GatewayClass)"),
    name: k8sName,
    generation: z.number().int().nonnegative().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).optional(),
    spec: z.record(z.string(), z.unknown()),
    origin: z.string().max(4096).optional().describe("where it came from: `cluster`, `cli`, or `dir:<file>`"),
    actor: z.string().max(256).optional().describe("who applied it: the NATS user of the writer (audit)"),
    messages: z.array(admissionMessage).max(256).optional().describe("admission's warnings and notes for this object"),
  }),
  keyOf: (d) => ({ kind: d.kind, namespace: d.namespace, name: d.name }),
});

export const configTranslationV1 = defineEvent({
  type: "io.isthmus.push.config_translation.v1",
  domain: "push",
  kind: "state",
  description: "What config-push could not honour of one configuration object when it translated it (empty when all is well).",
  path: ["config", ":kind", ":namespace", ":name"],
  schema: z.object({
    kind: z.enum(configKinds),
    namespace: z.string().max(253),
    name: k8sName,
    problems: z.array(admissionMessage).max(256),
  }),
  keyOf: (d) => ({ kind: d.kind, namespace: d.namespace, name: d.name }),
});
