import { type Bus, type BusLogger, StateReader, silentLogger } from "@isthmus/bus";
import {
  type AnalysisContext,
  admit,
  analyze,
  ClusterConfigStore,
  type ClusterObject,
  type ConfigObject,
  hasErrors,
  KINDS,
  type KindInfo,
  kindByKey,
  type Message,
  objectKey,
  resourceName,
  StreamConfigStore,
} from "@isthmus/config";
import { configResourceV1, domainFilter, streamName } from "@isthmus/events";
import { type ClusterAccess, kubeConfigFor, ResilientInformer } from "@isthmus/k8s";
import { MESH_SUPPORT } from "../domain/support.js";

/** Every configuration kind, watched on the config cluster at its newest served version. */
export const CONFIG_CLUSTER_KINDS: readonly KindInfo[] = KINDS;

/** Kinds whose status another controller owns (pvl-manager writes ASMPvlConfig's). */
const STATUS_OWNED_ELSEWHERE = new Set(["ASMPvlConfig"]);

/**
 * The config cluster (the seeds' "ASM kubeconfig") as a source of mesh configuration:
 * every object goes through the same admission as `isthmus apply`; its messages (and the
 * cross-object analysis) are written to `status.validationMessages` as Istio does; what is
 * admitted is published on the CONFIG stream, what is refused is not — the last good
 * version stays in force. Message ids chain the previous id with the content, so replicas
 * running this side by side publish each transition once.
 */
export class ConfigWatcher {
  private readonly informers: Array<{ info: KindInfo; inf: ResilientInformer<ClusterObject> }> = [];
  private readonly store: StreamConfigStore;
  private readonly cluster: ClusterConfigStore;
  /** kind/namespace/name -> the admitted object, for analysis. */
  private readonly admitted = new Map<string, ConfigObject>();
  private readonly published = new Set<string>();
  private analysisTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      mesh: string;
      access: ClusterAccess;
      bus: Bus;
      log?: BusLogger;
      /** The services the mesh knows, for analysis (hosts and subsets referenced). */
      services?: () => AnalysisContext["services"];
    },
  ) {
    this.store = new StreamConfigStore(o.bus, o.mesh);
    this.cluster = new ClusterConfigStore(kubeConfigFor(o.access));
  }

  private get log(): BusLogger {
    return this.o.log ?? silentLogger;
  }

  async start(): Promise<void> {
    const reader = new StateReader(this.o.bus.js, { stream: streamName(this.o.mesh, "config"), filter: domainFilter(this.o.mesh, "config") });
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state" && it.event.type === configResourceV1.type) {
        const d = it.event.data as ConfigObject & { origin?: string };
        if (d.origin === "cluster") this.published.add(objectKey(d));
      }
    }
    await reader.close();
    const kc = kubeConfigFor(this.o.access);
    for (const info of CONFIG_CLUSTER_KINDS) {
      const version = Object.keys(info.versions)[0] as string;
      const inf = new ResilientInformer<ClusterObject>(
        kc,
        `/apis/${info.group}/${version}/${info.plural}`,
        () => this.cluster.api.listClusterCustomObject({ group: info.group, version, plural: info.plural }) as never,
        {
          upsert: (obj) => void this.upsert(info, obj).catch((err) => this.log.warn({ kind: info.kind, err: String(err) }, "config object not handled")),
          remove: (obj) => void this.remove(info, obj).catch((err) => this.log.warn({ kind: info.kind, err: String(err) }, "config deletion not handled")),
          down: (err) =>
            this.log.warn(
              { kind: info.kind, err: String(err) },
              `cannot watch ${info.plural}.${info.group} on the config cluster (is its CRD installed?); retrying`,
            ),
        },
        30_000,
      );
      this.informers.push({ info, inf });
    }
    await Promise.all(this.informers.map((i) => i.inf.start()));
  }

  private async upsert(info: KindInfo, obj: ClusterObject): Promise<void> {
    const a = await admit(obj as Record<string, unknown>, { support: MESH_SUPPORT, origin: "config cluster" });
    const key = objectKey({ kind: info.key, namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" });
    if (!a.object || hasErrors(a.messages)) {
      // Refused: said on the object; what was in force stays in force.
      this.log.warn({ object: key, messages: a.messages.map((m) => m.message) }, "config object refused by admission");
      await this.writeStatus(info, obj, a.messages);
      return;
    }
    this.admitted.set(key, a.object);
    await this.store.apply(a.object, { actor: "config-cluster", origin: "cluster", messages: a.messages });
    this.published.add(key);
    await this.writeStatus(info, obj, [...a.messages, ...this.analysisOf(a.object)]);
    this.scheduleAnalysis();
  }

  private async remove(info: KindInfo, obj: ClusterObject): Promise<void> {
    const namespace = info.namespaced ? (obj.metadata?.namespace ?? "") : "";
    const name = obj.metadata?.name ?? "";
    const key = objectKey({ kind: info.key, namespace, name });
    this.admitted.delete(key);
    if (!this.published.has(key)) return;
    await this.store.delete(info.key, namespace, name, { actor: "config-cluster", origin: "cluster" });
    this.published.delete(key);
    this.scheduleAnalysis();
  }

  private analysisOf(o: ConfigObject): Message[] {
    const info = kindByKey(o.kind);
    const res = info ? resourceName(info, o.namespace, o.name) : "";
    return analyze([...this.admitted.values()], { services: this.o.services?.() ?? [] }).filter((m) => m.resource === res);
  }

  /** A change to one object can change what analysis says of others (a subset removed, a second VirtualService). */
  private scheduleAnalysis(): void {
    clearTimeout(this.analysisTimer);
    this.analysisTimer = setTimeout(() => void this.reanalyze(), 200);
  }

  private async reanalyze(): Promise<void> {
    for (const { info, inf } of this.informers) {
      for (const obj of inf.list()) {
        const key = objectKey({ kind: info.key, namespace: info.namespaced ? (obj.metadata?.namespace ?? "") : "", name: obj.metadata?.name ?? "" });
        const o = this.admitted.get(key);
        if (!o) continue;
        const a = await admit(obj as Record<string, unknown>, { support: MESH_SUPPORT, origin: "config cluster" });
        await this.writeStatus(info, obj, [...a.messages, ...this.analysisOf(o)]).catch(() => {});
      }
    }
  }

  private async writeStatus(info: KindInfo, obj: ClusterObject, messages: Message[]): Promise<void> {
    if (STATUS_OWNED_ELSEWHERE.has(info.key)) return;
    const withoutOrigin = messages.map(({ origin: _o, ...m }) => m);
    await this.cluster.writeValidation(info, obj, withoutOrigin);
  }

  async stop(): Promise<void> {
    clearTimeout(this.analysisTimer);
    await Promise.all(this.informers.map((i) => i.inf.stop()));
  }
}
