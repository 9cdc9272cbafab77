import { z } from "zod";
import { defineEvent } from "../registry.js";
import { k8sName } from "./common.js";

export const configKinds = [
  "VirtualService",
  "DestinationRule",
  "ServiceEntry",
  "PeerAuthentication",
  "AuthorizationPolicy",
  "Sidecar",
  "Gateway",
  "ASMMeshConfig",
  "ASMLocalRateLimiter",
] as const;

export const configResourceV1 = defineEvent({
  type: "io.isthmus.config.resource.v1",
  domain: "config",
  kind: "state",
  description: "One mesh configuration object (Istio networking/security API) from the mesh's config cluster.",
  path: [":kind", ":namespace", ":name"],
  schema: z.object({
    apiVersion: z.string().min(1),
    kind: z.enum(configKinds),
    namespace: k8sName,
    name: k8sName,
    generation: z.number().int().nonnegative().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    spec: z.record(z.string(), z.unknown()),
  }),
  keyOf: (d) => ({ kind: d.kind, namespace: d.namespace, name: d.name }),
});
