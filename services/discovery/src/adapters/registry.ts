import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openStore, type Store, sql } from "@isthmus/store";
import { loadYaml } from "@kubernetes/client-node";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type ClusterSourceSpec, clusters } from "./schema.js";

export const DISCOVERY_SCHEMA = "discovery";
export const CLUSTERS_CHANGED = "isthmus_clusters_changed";
export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

export function openDiscoveryStore(url: string | undefined, dataDir?: string): Promise<Store> {
  const o: Parameters<typeof openStore>[0] = { url, schema: DISCOVERY_SCHEMA, migrationsFolder };
  if (dataDir) o.dataDir = dataDir;
  return openStore(o);
}

const sourceSchema = z.union([
  z.object({ kubeconfig: z.string().min(1) }).strict(),
  z.object({ kubeconfigPath: z.string().min(1) }).strict(),
  z.object({ inCluster: z.literal(true) }).strict(),
  z.object({ manifests: z.string().min(1) }).strict(),
]);

export const clusterSpec = z.object({
  id: z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/, "cluster ids are DNS-label-like"),
  source: sourceSchema,
  mode: z.enum(["managed", "discovery-only", "remote-control-plane"]).default("managed"),
  network: z.string().default(""),
  region: z.string().default(""),
  zone: z.string().default(""),
});
export type ClusterSpec = z.infer<typeof clusterSpec>;

/** A declarative clusters file (YAML or JSON): `clusters: [{id, source, mode, network, region, zone}]`. */
export function readClustersFile(path: string): ClusterSpec[] {
  const doc = loadYaml<{ clusters?: unknown }>(readFileSync(path, "utf8"));
  const parsed = z.object({ clusters: z.array(clusterSpec) }).safeParse(doc);
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data.clusters;
}

export async function listClusters(store: Store): Promise<ClusterSpec[]> {
  const rows = await store.db.select().from(clusters).orderBy(clusters.id);
  return rows.map(
    (r) => ({ id: r.id, source: r.source as ClusterSourceSpec, mode: r.mode, network: r.network, region: r.region, zone: r.zone }) as ClusterSpec,
  );
}

export async function upsertCluster(store: Store, spec: ClusterSpec): Promise<void> {
  const c = clusterSpec.parse(spec);
  await store.db.transaction(async (tx) => {
    await tx
      .insert(clusters)
      .values({ ...c, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: clusters.id,
        set: { source: c.source, mode: c.mode, network: c.network, region: c.region, zone: c.zone, updatedAt: new Date() },
      });
    await tx.execute(sql`select pg_notify(${CLUSTERS_CHANGED}, ${c.id})`);
  });
}

export async function removeCluster(store: Store, id: string): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    const r = await tx.delete(clusters).where(eq(clusters.id, id)).returning({ id: clusters.id });
    await tx.execute(sql`select pg_notify(${CLUSTERS_CHANGED}, ${id})`);
    return r.length > 0;
  });
}
