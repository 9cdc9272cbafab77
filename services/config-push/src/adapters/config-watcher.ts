import { type Bus, type BusLogger, type Publisher, StateReader, silentLogger } from "@isthmus/bus";
import { buildEvent, buildTombstone, configResourceV1, contentId, domainFilter, streamName, transitionId } from "@isthmus/events";
import { type ClusterAccess, kubeConfigFor, ResilientInformer } from "@isthmus/k8s";
import { CustomObjectsApi, type KubernetesObject } from "@kubernetes/client-node";

/** The Istio resources read from the mesh's config cluster. */
export const ISTIO_KINDS = [
  { group: "networking.istio.io", plural: "virtualservices", kind: "VirtualService" },
  { group: "networking.istio.io", plural: "destinationrules", kind: "DestinationRule" },
  { group: "networking.istio.io", plural: "serviceentries", kind: "ServiceEntry" },
  { group: "networking.istio.io", plural: "sidecars", kind: "Sidecar" },
  { group: "security.istio.io", plural: "peerauthentications", kind: "PeerAuthentication" },
  { group: "security.istio.io", plural: "authorizationpolicies", kind: "AuthorizationPolicy" },
] as const;

type IstioObject = KubernetesObject & { spec?: Record<string, unknown> };

/**
 * The CONFIG producer: Istio CRDs on the config cluster (the "ASM kubeconfig") become
 * `config.resource.v1` events, one subject per object, tombstones on deletion. Message ids
 * chain the previous id with the content, so replicas running this side by side publish
 * each transition once (the server drops the copies) without electing a leader.
 */
export class ConfigWatcher {
  private readonly informers: ResilientInformer<IstioObject>[] = [];
  /** subject -> { msgId, content } of what is on the stream */
  private readonly published = new Map<string, { msgId: string; content: string }>();

  constructor(private readonly o: { mesh: string; access: ClusterAccess; bus: Bus; publisher: Publisher; log?: BusLogger }) {}

  private get log(): BusLogger {
    return this.o.log ?? silentLogger;
  }

  async start(): Promise<void> {
    const reader = new StateReader(this.o.bus.js, { stream: streamName(this.o.mesh, "config"), filter: domainFilter(this.o.mesh, "config") });
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state") this.published.set(it.subject, { msgId: it.msgId ?? "", content: contentId(configResourceV1.type, it.subject, it.event.data) });
    }
    await reader.close();
    const kc = kubeConfigFor(this.o.access);
    const api = kc.makeApiClient(CustomObjectsApi);
    for (const k of ISTIO_KINDS) {
      const inf = new ResilientInformer<IstioObject>(
        kc,
        `/apis/${k.group}/v1/${k.plural}`,
        () => api.listClusterCustomObject({ group: k.group, version: "v1", plural: k.plural }) as never,
        {
          upsert: (o) => void this.upsert(k.kind, o),
          remove: (o) => void this.remove(k.kind, o),
          down: (err) => this.log.warn({ kind: k.kind, err: String(err) }, "config cluster watch failed; retrying"),
        },
      );
      this.informers.push(inf);
    }
    await Promise.all(this.informers.map((i) => i.start()));
  }

  private async upsert(kind: (typeof ISTIO_KINDS)[number]["kind"], o: IstioObject): Promise<void> {
    const name = o.metadata?.name;
    const namespace = o.metadata?.namespace;
    if (!name || !namespace || !o.spec || typeof o.spec !== "object") {
      this.log.warn({ kind, name, namespace }, "skipped: missing metadata.name, metadata.namespace or spec");
      return;
    }
    let ev: ReturnType<typeof buildEvent<typeof configResourceV1>>;
    try {
      ev = buildEvent(
        configResourceV1,
        this.o.mesh,
        {
          apiVersion: o.apiVersion ?? "networking.istio.io/v1",
          kind,
          namespace,
          name,
          labels: o.metadata?.labels ?? {},
          spec: o.spec,
          ...(o.metadata?.generation ? { generation: o.metadata.generation } : {}),
        },
        { source: "config-push/config-watcher" },
      );
    } catch (err) {
      this.log.warn({ kind, namespace, name, err: String(err) }, "skipped: not a valid config resource");
      return;
    }
    const content = contentId(configResourceV1.type, ev.subject, ev.event.data);
    const prev = this.published.get(ev.subject);
    if (prev?.content === content) return;
    const msgId = transitionId(prev?.msgId, content);
    try {
      await this.o.publisher.publish(ev.subject, ev.event, { msgId });
      this.published.set(ev.subject, { msgId, content });
    } catch (err) {
      this.log.warn({ subject: ev.subject, err: String(err) }, "config event not published");
    }
  }

  private async remove(kind: (typeof ISTIO_KINDS)[number]["kind"], o: IstioObject): Promise<void> {
    const name = o.metadata?.name;
    const namespace = o.metadata?.namespace;
    if (!name || !namespace) return;
    const t = buildTombstone(configResourceV1, this.o.mesh, { kind, namespace, name }, { source: "config-push/config-watcher", reason: "deleted" });
    if (!this.published.has(t.subject)) return;
    await this.o.publisher.publish(t.subject, t.event).catch((err) => this.log.warn({ err: String(err) }, "tombstone not published"));
    this.published.delete(t.subject);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
