import { fileURLToPath } from "node:url";
import { awaitMeshStreams, Bus, type BusConnectOptions, type BusLogger, Publisher, silentLogger } from "@isthmus/bus";
import { type ClusterAccess, kubeConfigFor } from "@isthmus/k8s";
import { OutboxRelay, openStore, type Store } from "@isthmus/store";
import { ConflictError, PvlConfigs } from "./adapters/kube.js";
import type { CloudProvider } from "./adapters/provider.js";
import { outbox } from "./adapters/schema.js";
import type { PvlConfigSource } from "./adapters/source.js";
import { StreamPvlConfigs } from "./adapters/stream-source.js";
import { PvlReconciler } from "./reconciler.js";

export const PVL_SCHEMA = "pvl_manager";
const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

export function openPvlStore(url: string | undefined, dataDir?: string): Promise<Store> {
  const o: Parameters<typeof openStore>[0] = { url, schema: PVL_SCHEMA, migrationsFolder };
  if (dataDir) o.dataDir = dataDir;
  return openStore(o);
}

export interface PvlManagerConfig {
  mesh: string;
  /** The mesh's config cluster (the "ASM kubeconfig"); without one, ASMPvlConfig is read from the CONFIG stream (needs `bus`). */
  configCluster?: ClusterAccess | undefined;
  provider: CloudProvider;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  bus?: BusConnectOptions | undefined;
  sanCheck?: boolean;
  log?: BusLogger;
}

export interface RunningPvlManager {
  reconciler: PvlReconciler;
  store: Store;
  /** Reconcile one object now (tests; normally the watch and the requeue drive it). */
  kick(name: string): void;
  stop(): Promise<void>;
}

/**
 * The controller: an informer on ASMPvlConfig enqueues names; one reconcile runs per
 * name at a time; the result says when to look again (fast while provisioning).
 */
export async function startPvlManager(c: PvlManagerConfig): Promise<RunningPvlManager> {
  const log = c.log ?? silentLogger;
  const store = await openPvlStore(c.databaseUrl, c.dataDir);
  let bus: Bus | undefined;
  let relay: OutboxRelay | undefined;
  if (c.bus) {
    bus = await Bus.connect(c.bus);
    await awaitMeshStreams(bus.jsm, c.mesh, { log, replicas: bus.streamReplicas });
    relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { log });
    await relay.start();
  }
  let configs: PvlConfigSource;
  if (c.configCluster) configs = new PvlConfigs(kubeConfigFor(c.configCluster));
  else if (bus) configs = new StreamPvlConfigs(bus, c.mesh);
  else throw new Error("pvl-manager needs a config cluster (CONFIG_KUBECONFIG) or NATS (NATS_URL) to read ASMPvlConfig from the CONFIG stream");
  const reconciler = new PvlReconciler({ mesh: c.mesh, provider: c.provider, configs, store, log, sanCheck: c.sanCheck ?? true });

  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<string>();
  const again = new Set<string>();
  let stopped = false;
  const schedule = (name: string, ms: number) => {
    if (stopped) return;
    clearTimeout(timers.get(name));
    timers.set(
      name,
      setTimeout(() => void run(name), ms),
    );
  };
  const run = async (name: string) => {
    timers.delete(name);
    if (running.has(name)) {
      again.add(name);
      return;
    }
    running.add(name);
    let next: number | undefined = 1_000;
    try {
      next = (await reconciler.reconcile(name)).requeueMs;
    } catch (err) {
      if (err instanceof ConflictError) next = 50;
      else {
        log.warn({ config: name, err: String(err) }, "reconcile failed; retrying");
        next = 2_000;
      }
    } finally {
      running.delete(name);
    }
    if (again.delete(name)) next = 0;
    if (next !== undefined) schedule(name, next);
  };

  await configs.watch(
    (name) => schedule(name, 0),
    (err) => log.warn({ err: String(err) }, "ASMPvlConfig watch failed; retrying"),
  );

  return {
    reconciler,
    store,
    kick: (name) => schedule(name, 0),
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await configs.stop();
      while (running.size) await new Promise((r) => setTimeout(r, 20));
      await relay?.stop();
      await bus?.close();
      await store.close();
    },
  };
}
