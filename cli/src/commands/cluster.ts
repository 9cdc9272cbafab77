import { type ClusterSpec, listClusters, openDiscoveryStore, removeCluster, upsertCluster } from "@isthmus/discovery";
import type { Store } from "@isthmus/store";

const say = (s: string) => process.stdout.write(`${s}\n`);

async function withRegistry<T>(url: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const dbUrl = url ?? process.env.DATABASE_URL;
  if (!dbUrl) throw new Error("the discovery database: pass --database-url or set DATABASE_URL");
  const store = await openDiscoveryStore(dbUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export interface ClusterAddOptions {
  id: string;
  kubeconfig?: string;
  inCluster?: boolean;
  manifests?: string;
  mode: ClusterSpec["mode"];
  network: string;
  region: string;
  zone: string;
  databaseUrl?: string;
}

export async function clusterAdd(o: ClusterAddOptions): Promise<void> {
  const sources = [o.kubeconfig, o.inCluster, o.manifests].filter(Boolean).length;
  if (sources !== 1) throw new Error("give exactly one source: --kubeconfig <file>, --in-cluster or --manifests <dir>");
  const source: ClusterSpec["source"] = o.kubeconfig
    ? { kubeconfigPath: o.kubeconfig }
    : o.inCluster
      ? { inCluster: true }
      : { manifests: o.manifests as string };
  await withRegistry(o.databaseUrl, (s) => upsertCluster(s, { id: o.id, source, mode: o.mode, network: o.network, region: o.region, zone: o.zone }));
  say(`cluster ${o.id} registered (${o.mode}); running discovery replicas start watching it now`);
}

export async function clusterRemove(o: { id: string; databaseUrl?: string }): Promise<void> {
  const removed = await withRegistry(o.databaseUrl, (s) => removeCluster(s, o.id));
  if (!removed) throw new Error(`no cluster ${o.id} in the registry`);
  say(`cluster ${o.id} removed; its services are retracted from the mesh`);
}

export async function clusterList(o: { databaseUrl?: string; format: "table" | "json" }): Promise<void> {
  const list = await withRegistry(o.databaseUrl, listClusters);
  if (o.format === "json") {
    say(JSON.stringify(list, null, 2));
    return;
  }
  const source = (c: ClusterSpec) =>
    "kubeconfigPath" in c.source
      ? `kubeconfig:${c.source.kubeconfigPath}`
      : "inCluster" in c.source
        ? "in-cluster"
        : "manifests" in c.source
          ? `manifests:${c.source.manifests}`
          : "kubeconfig (inline)";
  say(`${"ID".padEnd(20)} ${"MODE".padEnd(22)} ${"NETWORK".padEnd(12)} ${"REGION/ZONE".padEnd(24)} SOURCE`);
  for (const c of list)
    say(`${c.id.padEnd(20)} ${c.mode.padEnd(22)} ${(c.network || "-").padEnd(12)} ${`${c.region || "-"}/${c.zone || "-"}`.padEnd(24)} ${source(c)}`);
}
