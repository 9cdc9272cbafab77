import { awaitMeshStreams, Bus, type BusConnectOptions, type BusLogger, Publisher, silentLogger } from "@isthmus/bus";
import { kubeConfigFor } from "@isthmus/k8s";
import type { LeaderLock, Store } from "@isthmus/store";
import { ClusterPublisher } from "./adapters/cluster-publisher.js";
import { KubernetesSource } from "./adapters/kubernetes-source.js";
import { ManifestSource } from "./adapters/manifest-source.js";
import { CLUSTERS_CHANGED, type ClusterSpec, listClusters, openDiscoveryStore, readClustersFile, upsertCluster } from "./adapters/registry.js";
import type { ClusterSource } from "./adapters/source.js";

export interface DiscoveryConfig {
  mesh: string;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  bus: BusConnectOptions;
  /** Declarative clusters file, loaded into the registry at start. */
  clustersFile?: string | undefined;
  coalesceMs?: number;
  staleAfterMs?: number;
  /** How often leadership and the registry are re-checked. */
  reconcileMs?: number;
  /**
   * How often each led cluster's published state is compared with its source and corrected
   * (a write to its subjects by anyone else is undone). Default 60 s; 0 = never.
   */
  resyncMs?: number;
  log?: BusLogger;
}

interface Runner {
  spec: ClusterSpec;
  lock: LeaderLock;
  source?: ClusterSource;
  publisher?: ClusterPublisher;
  resync?: NodeJS.Timeout;
}

export interface RunningDiscovery {
  store: Store;
  bus: Bus;
  /** Clusters this replica leads (publishes for). */
  leading(): string[];
  publisher(cluster: string): ClusterPublisher | undefined;
  /** Re-read the registry and leadership now. */
  reconcile(): Promise<void>;
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

const sameSpec = (a: ClusterSpec, b: ClusterSpec) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Discovery: for every registered cluster this replica leads (a Postgres session lock
 * per cluster, so replicas never publish conflicting states), a source (Kubernetes
 * informers or a manifest directory) feeding a coalescing publisher.
 */
export async function startDiscovery(c: DiscoveryConfig): Promise<RunningDiscovery> {
  const log = c.log ?? silentLogger;
  const store = await openDiscoveryStore(c.databaseUrl, c.dataDir);
  if (c.clustersFile) for (const spec of readClustersFile(c.clustersFile)) await upsertCluster(store, spec);
  const bus = await Bus.connect(c.bus);
  await awaitMeshStreams(bus.jsm, c.mesh, { log, replicas: bus.streamReplicas });
  const publisher = new Publisher(bus.js);
  const runners = new Map<string, Runner>();
  let stopping = false;

  const startLeading = async (r: Runner) => {
    const meta = { id: r.spec.id, mode: r.spec.mode, network: r.spec.network, region: r.spec.region, zone: r.spec.zone };
    const pub = new ClusterPublisher({ mesh: c.mesh, cluster: meta, bus, publisher, log, coalesceMs: c.coalesceMs ?? 10, staleAfterMs: c.staleAfterMs ?? 0 });
    await pub.bootstrap();
    const src: ClusterSource =
      "manifests" in r.spec.source ? new ManifestSource(r.spec.source.manifests, meta, pub) : new KubernetesSource(kubeConfigFor(r.spec.source), meta, pub);
    pub.attach(src);
    r.source = src;
    r.publisher = pub;
    await src.start();
    const every = c.resyncMs ?? 60_000;
    if (every > 0) {
      r.resync = setInterval(() => void pub.resync().catch((err) => log.warn({ err: String(err), cluster: r.spec.id }, "resync failed")), every);
      r.resync.unref();
    }
    log.info({ cluster: r.spec.id }, "leading cluster: watching and publishing");
  };

  const stopLeading = async (r: Runner, retract: boolean) => {
    clearInterval(r.resync);
    await r.source?.stop();
    if (retract) await r.publisher?.retractAll();
    await r.publisher?.stop();
    r.source = undefined;
    r.publisher = undefined;
  };

  let reconciling: Promise<void> | undefined;
  const reconcileOnce = async () => {
    const all = await listClusters(store);
    // A cluster with a remote control plane is watched by the discovery running there
    // (its states reach this mesh through the leaf node's stream), not from here.
    const remote = new Set(all.filter((s) => s.mode === "remote-control-plane").map((s) => s.id));
    const specs = all.filter((s) => !remote.has(s.id));
    const wanted = new Map(specs.map((s) => [s.id, s]));
    for (const [id, r] of runners) {
      const next = wanted.get(id);
      if (!next || !sameSpec(next, r.spec)) {
        // Removed: its services leave the mesh (not when its remote control plane took it over).
        // Changed: restart with the new spec.
        if (r.source) await stopLeading(r, !next && !remote.has(id));
        await r.lock.release();
        runners.delete(id);
      }
    }
    for (const spec of specs) {
      let r = runners.get(spec.id);
      if (!r) {
        r = { spec, lock: store.leaderLock(`isthmus:discovery:${c.mesh}:${spec.id}`) };
        runners.set(spec.id, r);
      }
      const leader = await r.lock.tryAcquire();
      if (leader && !r.source && !stopping) await startLeading(r);
      if (!leader && r.source) {
        log.warn({ cluster: spec.id }, "lost leadership; another replica publishes this cluster now");
        await stopLeading(r, false);
      }
    }
  };
  const reconcile = async () => {
    while (reconciling) await reconciling;
    reconciling = reconcileOnce().finally(() => {
      reconciling = undefined;
    });
    await reconciling;
  };

  await reconcile();
  const unlisten = await store.listen(CLUSTERS_CHANGED, () => void reconcile().catch((err) => log.warn({ err: String(err) }, "reconcile failed")));
  const timer = setInterval(() => void reconcile().catch((err) => log.warn({ err: String(err) }, "reconcile failed")), c.reconcileMs ?? 2_000);
  timer.unref();

  return {
    store,
    bus,
    leading: () => [...runners.values()].filter((r) => r.source).map((r) => r.spec.id),
    publisher: (id) => runners.get(id)?.publisher,
    reconcile,
    async ready() {
      return (await bus.jetStreamReady()) && (await store.ping());
    },
    async stop() {
      stopping = true;
      clearInterval(timer);
      while (reconciling) await reconciling;
      for (const r of runners.values()) {
        if (r.source) await stopLeading(r, false);
        await r.lock.release();
      }
      await unlisten().catch(() => {});
      await bus.close();
      await store.close();
    },
  };
}
