import { readFileSync } from "node:fs";
import { busOptionsFromEnv } from "@isthmus/bus";
import type { ClusterAccess } from "@isthmus/k8s";
import { LocalKeyProvider } from "./adapters/key-provider.js";
import type { CaConfig } from "./service.js";

const HOUR_S = 3600;

/** A duration as operators write it (24h, 90d, 30m, 3600) in seconds; `fallback` when absent. */
export function durationSeconds(v: string | undefined, fallback: number): number {
  if (!v) return fallback;
  const m = /^(\d+)(s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new Error(`not a duration: ${v} (use e.g. 24h, 90d, 3600)`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? "s"] as number);
}

/**
 * From the environment: MESH_ID, CA_TRUST_DOMAIN, DATABASE_URL (else PGlite in CA_DATA_DIR),
 * CA_KEK / CA_KEK_FILE, CA_GRPC_HOST, CA_GRPC_PORT, CA_GRPC_TLS, CA_SERVER_NAMES,
 * CA_DEFAULT_TTL, CA_MAX_TTL, CA_TOKEN_AUDIENCES, CA_CLUSTERS_FILE (JSON
 * [{ "id": "cluster-1", "kubeconfigPath": "..." } | { "id": "...", "inCluster": true }]),
 * CA_PLUGIN_DIR, NATS_* (see libs/bus).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CaConfig {
  const clusters: Array<{ id: string; access: ClusterAccess }> = env.CA_CLUSTERS_FILE
    ? (JSON.parse(readFileSync(env.CA_CLUSTERS_FILE, "utf8")) as Array<{ id: string; kubeconfigPath?: string; inCluster?: boolean }>).map((c) => ({
        id: c.id,
        access: c.inCluster ? { inCluster: true as const } : { kubeconfigPath: c.kubeconfigPath as string },
      }))
    : [];
  return {
    mesh: env.MESH_ID ?? "default",
    trustDomain: env.CA_TRUST_DOMAIN ?? "cluster.local",
    databaseUrl: env.DATABASE_URL,
    dataDir: env.CA_DATA_DIR,
    keys: LocalKeyProvider.fromEnv(env),
    grpcHost: env.CA_GRPC_HOST ?? "0.0.0.0",
    grpcPort: Number(env.CA_GRPC_PORT ?? 15012),
    grpcTls: env.CA_GRPC_TLS !== "false",
    serverNames: (env.CA_SERVER_NAMES ?? "localhost,cert-authority,cert-authority.isthmus-system.svc").split(",").filter(Boolean),
    bus: env.NATS_URL ? busOptionsFromEnv(env, "cert-authority") : undefined,
    validity: {
      defaultTtlMs: durationSeconds(env.CA_DEFAULT_TTL, 24 * HOUR_S) * 1000,
      maxTtlMs: durationSeconds(env.CA_MAX_TTL, 90 * 24 * HOUR_S) * 1000,
      backdateMs: 60_000,
    },
    audiences: (env.CA_TOKEN_AUDIENCES ?? "istio-ca").split(",").filter(Boolean),
    clusters,
    defaultCluster: env.CA_DEFAULT_CLUSTER,
    pluginDir: env.CA_PLUGIN_DIR,
  };
}
