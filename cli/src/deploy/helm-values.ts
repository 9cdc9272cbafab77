import { natsAuthorization, passwordEnv, SERVICE_USERS } from "@isthmus/bus";
import { z } from "zod";

// The Helm chart's values (deploy/helm/isthmus), defined once: values.schema.json is
// generated from this (`npm run gen`) and the chart's tests validate values files with it.
const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
const resources = z.record(z.string(), z.unknown()).default({});
const clusterSpec = z.object({
  id: dnsLabel,
  source: z.union([z.object({ kubeconfigSecret: z.string().min(1) }).strict(), z.object({ inCluster: z.literal(true) }).strict()]),
  mode: z.enum(["managed", "discovery-only", "remote-control-plane"]).default("managed"),
  network: z.string().default(""),
  region: z.string().default(""),
  zone: z.string().default(""),
});

export const helmValues = z
  .object({
    mesh: z.object({ id: dnsLabel, trustDomain: z.string().min(1).default("cluster.local") }).strict(),
    region: dnsLabel.describe("this control plane's region (also its JetStream domain unless set)"),
    role: z.enum(["primary", "remote"]).describe("primary: a region's full control plane; remote: a remote control plane on a NATS leaf node"),
    remote: z
      .object({
        clusters: z.array(dnsLabel).default([]).describe("role remote: the clusters this remote control plane serves"),
        hubLeafUrl: z
          .string()
          .default("")
          .describe("role remote: the hub's leaf-node URL with the hub's leaf credentials, e.g. nats-leaf://leaf:<LEAF_NATS_PASSWORD>@hub.example.com:7422"),
        hubDomain: z.string().default("hub").describe("role remote: the hub's JetStream domain"),
      })
      .strict(),
    image: z.object({ repository: z.string().min(1), tag: z.string().default(""), pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]) }).strict(),
    nats: z
      .object({
        url: z.string().default("").describe("an external NATS; empty: the bundled one"),
        bundled: z
          .object({
            jetstreamDomain: z.string().default(""),
            storage: z.string().default("10Gi"),
            leafnodePort: z.number().int().min(0).max(65535).default(7422).describe("primary: accept remote control planes' leaf nodes (0: off)"),
            resources,
          })
          .strict(),
        passwordsSecret: z.string().default("").describe("a Secret with <SERVICE>_NATS_PASSWORD keys; empty: generated once and kept"),
      })
      .strict(),
    postgres: z.object({ url: z.string().default(""), existingSecret: z.string().default("").describe("a Secret with a DATABASE_URL key") }).strict(),
    tls: z
      .object({
        enabled: z.boolean().default(false).describe("TLS on NATS, xDS, the CA's gRPC and the health endpoints: one setting"),
        secretName: z.string().default("isthmus-tls").describe("tls.crt, tls.key and ca.crt"),
      })
      .strict(),
    configPush: z
      .object({
        replicas: z.number().int().min(1),
        debounceMs: z.number().int().min(0),
        pushConcurrency: z.number().int().min(1),
        configCluster: z
          .object({
            enabled: z.boolean().default(true).describe("watch the mesh's configuration (Istio, Gateway API, ASM kinds) on its config cluster"),
            kubeconfigSecret: z
              .string()
              .default("")
              .describe("a Secret with a `kubeconfig` key for the config cluster; empty: the cluster this release runs in"),
          })
          .strict()
          .default({ enabled: true, kubeconfigSecret: "" }),
        resources,
      })
      .strict(),
    discovery: z.object({ replicas: z.number().int().min(1), clusters: z.array(clusterSpec).default([]), resources }).strict(),
    certAuthority: z
      .object({ enabled: z.boolean(), replicas: z.number().int().min(1), kekSecret: z.string().min(1).describe("a Secret with a CA_KEK key"), resources })
      .strict(),
    pvlManager: z.object({ enabled: z.boolean(), provider: z.enum(["simulated", "alibabacloud"]), resources }).strict(),
    networkPolicy: z.object({ enabled: z.boolean() }).strict(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.role === "remote" && !v.remote.clusters.length)
      ctx.addIssue({ code: "custom", path: ["remote", "clusters"], message: "a remote control plane serves at least one cluster" });
    if (v.role === "remote" && !v.remote.hubLeafUrl && !v.nats.url)
      ctx.addIssue({ code: "custom", path: ["remote", "hubLeafUrl"], message: "a remote control plane needs the hub's leaf-node URL" });
    if (v.certAuthority.enabled && !v.postgres.url && !v.postgres.existingSecret)
      ctx.addIssue({ code: "custom", path: ["postgres"], message: "cert-authority and discovery need Postgres: set postgres.url or postgres.existingSecret" });
  });

export type HelmValues = z.infer<typeof helmValues>;

export function helmValuesJsonSchema(): string {
  // Draft 7: what every Helm 3 release validates values against.
  return `${JSON.stringify(z.toJSONSchema(helmValues, { io: "input", unrepresentable: "any", target: "draft-7" }), null, 2)}\n`;
}

/** The bundled NATS's users and permissions (passwords from the NATS container's environment). */
export function chartNatsAuthorization(): string {
  return natsAuthorization(SERVICE_USERS.map((user) => ({ user, password: { env: passwordEnv(user) } })));
}
