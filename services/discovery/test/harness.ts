import { type Bus, StateReader } from "@isthmus/bus";
import { domainFilter, streamName } from "@isthmus/events";
import { createTestDatabase, KubeApiStandIn, type TestDatabase, testNatsUrl, uniqueMeshId, waitFor } from "@isthmus/testing";
import { type ClusterSpec, type DiscoveryConfig, openDiscoveryStore, type RunningDiscovery, startDiscovery, upsertCluster } from "../src/index.js";

export interface Endpoint {
  address: string;
  cluster: string;
  network: string;
  ready: boolean;
  labels: Record<string, string>;
  locality: { region: string; zone: string; subzone: string };
}
export interface State {
  cluster: string;
  namespace: string;
  name: string;
  endpoints: Endpoint[];
  stale: boolean;
}

export class DiscoveryHarness {
  readonly mesh = uniqueMeshId("disc");
  db!: TestDatabase;
  d!: RunningDiscovery;
  readonly apis = new Map<string, KubeApiStandIn>();

  async cluster(id: string, extra: Partial<ClusterSpec> = {}): Promise<KubeApiStandIn> {
    const api = new KubeApiStandIn(id);
    await api.start();
    this.apis.set(id, api);
    if (!this.db) this.db = await createTestDatabase();
    const store = await openDiscoveryStore(this.db.url);
    await upsertCluster(store, { id, source: { kubeconfig: api.kubeconfig() }, mode: "managed", network: "", region: "", zone: "", ...extra });
    await store.close();
    return api;
  }

  /** Register a cluster that is a directory of manifests. */
  async manifestCluster(id: string, dir: string): Promise<void> {
    if (!this.db) this.db = await createTestDatabase();
    const store = await openDiscoveryStore(this.db.url);
    await upsertCluster(store, { id, source: { manifests: dir }, mode: "managed", network: "", region: "", zone: "" });
    await store.close();
  }

  async start(
    o: Partial<Pick<DiscoveryConfig, "staleAfterMs" | "log" | "reconcileMs" | "resyncMs">> & { servers?: string | string[] } = {},
  ): Promise<RunningDiscovery> {
    const { servers, ...rest } = o;
    if (!this.db) this.db = await createTestDatabase();
    this.d = await startDiscovery({
      mesh: this.mesh,
      databaseUrl: this.db.url,
      bus: { servers: servers ?? testNatsUrl(), waitOnFirstConnect: false, maxReconnectDelayMs: 500 },
      coalesceMs: 10,
      reconcileMs: 500,
      ...rest,
    });
    return this.d;
  }

  get bus(): Bus {
    return this.d.bus;
  }

  /** The latest state of every service on the stream (tombstoned ones absent). */
  async states(): Promise<Map<string, State>> {
    const reader = new StateReader(this.bus.js, { stream: streamName(this.mesh, "discovery"), filter: domainFilter(this.mesh, "discovery", "service") });
    const out = new Map<string, State>();
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state") {
        const s = it.event.data as State;
        out.set(`${s.cluster}/${s.namespace}/${s.name}`, s);
      }
    }
    await reader.close();
    return out;
  }

  async state(key: string): Promise<State | undefined> {
    return (await this.states()).get(key);
  }

  /** Messages stored per subject of the service domain (for "nothing more was published"). */
  async messageCount(): Promise<number> {
    const info = await this.bus.jsm.streams.info(streamName(this.mesh, "discovery"), { subjects_filter: domainFilter(this.mesh, "discovery", "service") });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  async clusterStatus(id: string): Promise<{ state: string; lastError?: string } | undefined> {
    const m = await this.bus.jsm.streams
      .getMessage(streamName(this.mesh, "discovery"), { last_by_subj: `mesh.${this.mesh}.discovery.cluster.${id}` })
      .catch(() => null);
    return m ? m.json<{ data: { state: string; lastError?: string } }>().data : undefined;
  }

  until(cond: () => Promise<boolean> | boolean, ms = 15_000, what = "condition"): Promise<void> {
    return waitFor(cond, ms, what);
  }

  async stop(): Promise<void> {
    const bus = this.d?.bus;
    if (bus) for (const d of ["DISCOVERY", "CONFIG", "CA", "PVL", "PUSH", "DLQ"]) await bus.jsm.streams.delete(`${d}_${this.mesh}`).catch(() => {});
    await this.d?.stop();
    for (const a of this.apis.values()) await a.stop();
    await this.db?.drop();
  }
}
