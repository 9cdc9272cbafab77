import { fileURLToPath } from "node:url";
import { awaitMeshStreams, Bus, type BusConnectOptions, type BusLogger, Publisher, silentLogger } from "@isthmus/bus";
import { type ClusterAccess, kubeConfigFor, ResilientInformer } from "@isthmus/k8s";
import { OutboxRelay, openStore, type Store } from "@isthmus/store";
import type { KubernetesObject } from "@kubernetes/client-node";
import { ConflictError, PvlConfigs } from "./adapters/kube.js";
import type { CloudProvider } from "./adapters/provider.js";
import { outbox } from "./adapters/schema.js";
import { PVL_GROUP, PVL_PLURAL, PVL_VERSION } from "./domain/spec.js";
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
  /** The mesh's config cluster (the "ASM kubeconfig"). */
  configCluster: ClusterAccess;
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
  const configs = new PvlConfigs(kubeConfigFor(c.configCluster));
  const reconciler = new PvlReconciler({ mesh: c.mesh, provider: c.provider, configs, store, log, sanCheck: c.sanCheck ?? true });
  let bus: Bus | undefined;
  let relay: OutboxRelay | undefined;
  if (c.bus) {
    bus = await Bus.connect(c.bus);
    await awaitMeshStreams(bus.jsm, c.mesh, { log, replicas: bus.streamReplicas });
    relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { log });
    await relay.start();
  }

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

  const informer = new ResilientInformer<KubernetesObject>(configs.kc, `/apis/${PVL_GROUP}/${PVL_VERSION}/${PVL_PLURAL}`, () => configs.list() as never, {
    upsert: (o) => schedule(o.metadata?.name ?? "", 0),
    remove: () => {},
    down: (err) => log.warn({ err: String(err) }, "config cluster watch failed; retrying"),
  });
  await informer.start();

  return {
    reconciler,
    store,
    kick: (name) => schedule(name, 0),
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await informer.stop();
      while (running.size) await new Promise((r) => setTimeout(r, 20));
      await relay?.stop();
      await bus?.close();
      await store.close();
    },
  };
}
