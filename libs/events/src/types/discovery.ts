import { z } from "zod";
import { defineEvent } from "../registry.js";
import { dnsLabel, isoTime, k8sName, locality } from "./common.js";

export const clusterMode = z.enum(["managed", "discovery-only", "remote-control-plane"]);

export const servicePort = z.object({
  name: z.string().default(""),
  port: z.number().int().min(1).max(65535),
  targetPort: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(["HTTP", "HTTP2", "GRPC", "HTTPS", "TLS", "TCP", "UDP", "MONGO", "REDIS", "MYSQL"]),
});

export const endpoint = z.object({
  address: z.union([z.ipv4(), z.ipv6()]),
  ports: z.record(z.string(), z.number().int().min(1).max(65535)).describe("port name -> endpoint port"),
  ready: z.boolean(),
  serving: z.boolean(),
  terminating: z.boolean(),
  cluster: z.string(),
  network: z.string().default(""),
  locality,
  labels: z.record(z.string(), z.string()).default({}),
  serviceAccount: z.string().optional(),
  pod: z.string().optional(),
  node: z.string().optional(),
});

export const serviceStateV1 = defineEvent({
  type: "io.isthmus.discovery.service_state.v1",
  domain: "discovery",
  kind: "state",
  description: "Full state of one service in one cluster: ports and every endpoint.",
  path: ["service", ":cluster", ":namespace", ":name"],
  schema: z.object({
    cluster: z.string().min(1),
    namespace: k8sName,
    name: k8sName,
    hostname: z.string().min(1).describe("<name>.<namespace>.svc.cluster.local, or a ServiceEntry host"),
    ports: z.array(servicePort),
    endpoints: z.array(endpoint),
    stale: z.boolean().default(false).describe("true when the cluster's watch is broken and these are the last known endpoints"),
  }),
  keyOf: (d) => ({ cluster: d.cluster, namespace: d.namespace, name: d.name }),
});

export const clusterStatusV1 = defineEvent({
  type: "io.isthmus.discovery.cluster_status.v1",
  domain: "discovery",
  kind: "state",
  description: "Connection state of a registered cluster.",
  path: ["cluster", ":cluster"],
  schema: z.object({
    cluster: z.string().min(1),
    mode: clusterMode,
    network: z.string().default(""),
    region: z.string().default(""),
    zone: z.string().default(""),
    state: z
      .enum(["Connecting", "Synced", "Degraded", "Disconnected"])
      .describe("Degraded: connected and read, but some services could not be published (lastError says which and why)"),
    since: isoTime,
    lastError: z.string().optional(),
  }),
  keyOf: (d) => ({ cluster: d.cluster }),
});

export const networkGatewayV1 = defineEvent({
  type: "io.isthmus.discovery.network_gateway.v1",
  domain: "discovery",
  kind: "state",
  description: "East-west gateway addresses through which endpoints of a network are reached.",
  path: ["gateway", ":network"],
  schema: z.object({
    network: dnsLabel.or(z.string().min(1)),
    addresses: z.array(z.object({ address: z.string().min(1), port: z.number().int().min(1).max(65535) })),
  }),
  keyOf: (d) => ({ network: d.network }),
});
