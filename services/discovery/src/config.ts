import { busOptionsFromEnv } from "@isthmus/bus";
import type { DiscoveryConfig } from "./service.js";

/** MESH_ID, DATABASE_URL (else PGlite in DISCOVERY_DATA_DIR), CLUSTERS_FILE, COALESCE_MS, STALE_AFTER_MS, RESYNC_MS, NATS_*. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DiscoveryConfig {
  return {
    mesh: env.MESH_ID ?? "default",
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DISCOVERY_DATA_DIR,
    bus: busOptionsFromEnv(env, "discovery"),
    clustersFile: env.CLUSTERS_FILE,
    coalesceMs: env.COALESCE_MS ? Number(env.COALESCE_MS) : 10,
    staleAfterMs: env.STALE_AFTER_MS ? Number(env.STALE_AFTER_MS) : 0,
    ...(env.RESYNC_MS ? { resyncMs: Number(env.RESYNC_MS) } : {}),
  };
}
