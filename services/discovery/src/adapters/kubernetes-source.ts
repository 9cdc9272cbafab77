import { ResilientInformer } from "@isthmus/k8s";
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type KubernetesObject, type ListPromise } from "@kubernetes/client-node";
import { type ClusterMeta, type EndpointSliceObject, type NodeObject, type PodObject, SERVICE_NAME_LABEL, type ServiceObject } from "../domain/model.js";
import { type ServiceState, translateService } from "../domain/translate.js";
import type { ClusterSource, SourceListener } from "./source.js";

const keyOf = (ns: string | undefined, name: string | undefined) => `${ns ?? ""}/${name ?? ""}`;

function dropFrom(index: Map<string, Set<string>>, k: string, value: string): void {
  const set = index.get(k);
  if (!set) return;
  set.delete(value);
  if (!set.size) index.delete(k);
}

function addTo(index: Map<string, Set<string>>, k: string, value: string): void {
  const set = index.get(k);
  if (set) set.add(value);
  else index.set(k, new Set([value]));
}

/**
 * A Kubernetes cluster through informers on Services, EndpointSlices, Pods, Nodes and
 * Namespaces. Indexes map a pod or node change to the services it affects. Caches
 * survive watch failures: a broken connection never empties a service.
 */
export class KubernetesSource implements ClusterSource {
  private readonly services: ResilientInformer<KubernetesObject>;
  private readonly slices: ResilientInformer<KubernetesObject>;
  private readonly pods: ResilientInformer<KubernetesObject>;
  private readonly nodes: ResilientInformer<KubernetesObject>;
  private readonly namespaces: ResilientInformer<KubernetesObject>;
  private readonly all: ResilientInformer<KubernetesObject>[];
  /** service key -> slice name -> slice */
  private readonly slicesByService = new Map<string, Map<string, EndpointSliceObject>>();
  private readonly servicesByPod = new Map<string, Set<string>>();
  private readonly servicesByNode = new Map<string, Set<string>>();
  private readonly refsByService = new Map<string, { pods: Set<string>; nodes: Set<string> }>();
  private started = false;
  private down = new Set<string>();
  private lastError: string | undefined;
  synced = false;

  constructor(
    kc: KubeConfig,
    private readonly cluster: ClusterMeta,
    private readonly out: SourceListener,
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    const disc = kc.makeApiClient(DiscoveryV1Api);
    const make = (path: string, list: ListPromise<KubernetesObject>, upsert: (o: KubernetesObject) => void, remove: (o: KubernetesObject) => void) => {
      const inf: ResilientInformer<KubernetesObject> = new ResilientInformer(kc, path, list, {
        upsert,
        remove,
        up: () => this.informerUp(path),
        down: (err) => this.informerDown(path, err),
      });
      return inf;
    };
    this.services = make(
      "/api/v1/services",
      () => core.listServiceForAllNamespaces() as never,
      (o) => this.touch([keyOf(o.metadata?.namespace, o.metadata?.name)]),
      (o) => this.touch([keyOf(o.metadata?.namespace, o.metadata?.name)]),
    );
    this.slices = make(
      "/apis/discovery.k8s.io/v1/endpointslices",
      () => disc.listEndpointSliceForAllNamespaces() as never,
      (o) => this.sliceChanged(o as EndpointSliceObject, false),
      (o) => this.sliceChanged(o as EndpointSliceObject, true),
    );
    this.pods = make(
      "/api/v1/pods",
      () => core.listPodForAllNamespaces() as never,
      (o) => this.touch(this.servicesByPod.get(keyOf(o.metadata?.namespace, o.metadata?.name)) ?? []),
      (o) => this.touch(this.servicesByPod.get(keyOf(o.metadata?.namespace, o.metadata?.name)) ?? []),
    );
    this.nodes = make(
      "/api/v1/nodes",
      () => core.listNode() as never,
      (o) => this.touch(this.servicesByNode.get(o.metadata?.name ?? "") ?? []),
      (o) => this.touch(this.servicesByNode.get(o.metadata?.name ?? "") ?? []),
    );
    // Namespaces carry the sidecar-injection label; kept for the config side, no state of their own here.
    this.namespaces = make(
      "/api/v1/namespaces",
      () => core.listNamespace() as never,
      () => {},
      () => {},
    );
    this.all = [this.services, this.slices, this.pods, this.nodes, this.namespaces];
  }

  private touch(keys: Iterable<string>): void {
    if (this.synced) this.out.dirty(keys);
  }

  private sliceChanged(s: EndpointSliceObject, deleted: boolean): void {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) return;
    const key = keyOf(s.metadata.namespace, svc);
    let bySlice = this.slicesByService.get(key);
    if (deleted) bySlice?.delete(s.metadata.name ?? "");
    else {
      if (!bySlice) {
        bySlice = new Map();
        this.slicesByService.set(key, bySlice);
      }
      bySlice.set(s.metadata.name ?? "", s);
    }
    if (bySlice && bySlice.size === 0) this.slicesByService.delete(key);
    this.reindex(key);
    this.touch([key]);
  }

  /** Which pods and nodes a service's endpoints are on, so their changes reach it; rebuilt per change so it never grows stale. */
  private reindex(key: string): void {
    const old = this.refsByService.get(key);
    if (old) {
      for (const p of old.pods) dropFrom(this.servicesByPod, p, key);
      for (const n of old.nodes) dropFrom(this.servicesByNode, n, key);
    }
    const refs = { pods: new Set<string>(), nodes: new Set<string>() };
    const ns = key.split("/")[0];
    for (const slice of this.slicesByService.get(key)?.values() ?? []) {
      for (const ep of slice.endpoints ?? []) {
        if (ep.targetRef?.kind === "Pod" && ep.targetRef.name) refs.pods.add(keyOf(ep.targetRef.namespace ?? ns, ep.targetRef.name));
        if (ep.nodeName) refs.nodes.add(ep.nodeName);
      }
    }
    for (const p of refs.pods) addTo(this.servicesByPod, p, key);
    for (const n of refs.nodes) addTo(this.servicesByNode, n, key);
    if (refs.pods.size || refs.nodes.size) this.refsByService.set(key, refs);
    else this.refsByService.delete(key);
  }

  private informerUp(path: string): void {
    this.down.delete(path);
    if (!this.started) return;
    if (this.down.size === 0) {
      this.out.status("Synced");
      // Recovered: whatever changed while we were away surfaces as upserts/removes already; re-check everything once.
      if (this.synced) this.out.dirty(this.keys());
    }
  }

  private informerDown(path: string, err: unknown): void {
    const first = this.down.size === 0;
    this.down.add(path);
    this.lastError = `${path}: ${err instanceof Error ? err.message : String(err)}`;
    if (first && this.started) this.out.status("Disconnected", this.lastError);
  }

  async start(): Promise<void> {
    this.out.status("Connecting");
    // Everything is read before anything is published: a service listed before its
    // slices must not go out with no endpoints.
    await Promise.all(this.all.map((i) => i.start()));
    this.started = true;
    if (this.down.size === 0) {
      this.synced = true;
      this.out.status("Synced");
      this.out.dirty(this.keys());
    } else {
      this.out.status("Disconnected", this.lastError);
      // Publish once every informer has listed.
      const wait = setInterval(() => {
        if (this.down.size === 0 && this.all.every((i) => i.isUp)) {
          clearInterval(wait);
          this.synced = true;
          this.out.dirty(this.keys());
        }
      }, 100);
      wait.unref();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.stop()));
  }

  keys(): string[] {
    return this.services.list().map((s) => keyOf(s.metadata?.namespace, s.metadata?.name));
  }

  state(key: string): ServiceState | undefined {
    const [ns, name] = key.split("/");
    const svc = this.services.get(name ?? "", ns) as ServiceObject | undefined;
    if (!svc) return undefined;
    const slices = [...(this.slicesByService.get(key)?.values() ?? [])];
    const r = translateService(this.cluster, svc, slices, {
      pod: (pns, pname) => this.pods.get(pname, pns) as PodObject | undefined,
      node: (n) => this.nodes.get(n) as NodeObject | undefined,
    });
    if (r.skipped.length) this.out.skipped(r.skipped);
    return r.state;
  }
}
