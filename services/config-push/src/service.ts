import { randomBytes } from "node:crypto";
import { Bus, type BusConnectOptions, type BusLogger, Publisher, StateReader, silentLogger } from "@isthmus/bus";
import { buildEvent, domainFilter, proxyStatusV1, streamName } from "@isthmus/events";
import type { ClusterAccess } from "@isthmus/k8s";
import { SnapshotCache, type TypeUrl } from "@isthmus/xds";
import { AdsServer, type ProxyConnection } from "./adapters/ads-server.js";
import { ConfigWatcher } from "./adapters/config-watcher.js";
import { MeshModel, type ServiceState } from "./domain/mesh-model.js";
import { translate } from "./domain/translate.js";

export interface ConfigPushConfig {
  mesh: string;
  bus: BusConnectOptions;
  host: string;
  port: number;
  /** Changes are batched for this long after the last one ... */
  debounceMs?: number;
  /** ... but never longer than this. */
  maxDelayMs?: number;
  /** Name of this replica in proxy status. */
  instance?: string;
  /** How often proxy status changes are published (batched). */
  statusIntervalMs?: number;
  /** The mesh's config cluster: watch Istio CRDs there and publish them as CONFIG events. */
  configCluster?: ClusterAccess;
  log?: BusLogger;
}

export interface RunningConfigPush {
  port: number;
  cache: SnapshotCache;
  ads: AdsServer;
  /** Resolves once the model has caught up with the stream and the first snapshot is built. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** config-push: rebuilds its model from the DISCOVERY stream, then serves it as xDS. */
export async function startConfigPush(c: ConfigPushConfig): Promise<RunningConfigPush> {
  const log = c.log ?? silentLogger;
  const bus = await Bus.connect(c.bus);
  const model = new MeshModel();
  const cache = new SnapshotCache();
  const ads = new AdsServer(cache, log);
  const port = await ads.listen(c.host, c.port);
  const instance = c.instance ?? `config-push-${randomBytes(3).toString("hex")}`;

  // Proxy status on the PUSH stream: dirty proxies collected and flushed together (one
  // timer for all), the latest state per proxy subject.
  const publisher = new Publisher(bus.js);
  const dirtyStatus = new Map<string, { p: ProxyConnection; connected: boolean }>();
  let statusTimer: NodeJS.Timeout | undefined;
  const flushStatus = () => {
    statusTimer = undefined;
    const batch = [...dirtyStatus.values()];
    dirtyStatus.clear();
    for (const { p, connected } of batch) {
      const types: Record<string, Record<string, string>> = {};
      for (const [type, st] of p.types) {
        const t: Record<string, string> = { latest: cache.version(type as TypeUrl) };
        if (st.sent) t.sent = st.sent;
        if (st.acked) t.acked = st.acked;
        if (st.nacked) t.nacked = st.nacked;
        if (st.error) t.error = st.error;
        types[type] = t;
      }
      const ev = buildEvent(proxyStatusV1, c.mesh, { proxyId: p.id, instance, connected, since: p.connectedAt.toISOString(), types }, { source: instance });
      publisher.publish(ev.subject, ev.event).catch((err) => log.warn({ err: String(err), proxy: p.id }, "proxy status not published"));
    }
  };
  ads.onStatus = (p, connected) => {
    dirtyStatus.set(p.id, { p, connected });
    statusTimer ??= setTimeout(flushStatus, c.statusIntervalMs ?? 250);
  };

  let timer: NodeJS.Timeout | undefined;
  let firstChangeAt = 0;
  const rebuild = () => {
    timer = undefined;
    firstChangeAt = 0;
    const changed: TypeUrl[] = [];
    const problems: Array<{ resource: string; reason: string }> = [];
    for (const [type, inputs] of translate(model, problems)) if (cache.setType(type, inputs)) changed.push(type);
    for (const p of problems) log.warn(p, "mesh configuration skipped");
    cache.publish(changed);
  };
  const changed = () => {
    const now = Date.now();
    if (!firstChangeAt) firstChangeAt = now;
    clearTimeout(timer);
    const wait = Math.min(c.debounceMs ?? 100, Math.max(0, firstChangeAt + (c.maxDelayMs ?? 10_000) - now));
    timer = setTimeout(rebuild, wait);
  };

  const reader = new StateReader(bus.js, { stream: streamName(c.mesh, "discovery"), filter: domainFilter(c.mesh, "discovery", "service") });
  // Ready (and the first snapshot built) once both streams have been read to their end.
  let pending = 2;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  const caughtUp = () => {
    if (--pending === 0) {
      rebuild();
      resolveReady();
    }
  };
  const reading = (async () => {
    for await (const item of reader) {
      if (item.kind === "caught-up") caughtUp();
      else if (item.kind === "state") {
        model.upsert(item.subject, item.event.data as ServiceState);
        changed();
      } else if (item.kind === "deleted") {
        model.remove(item.subject);
        changed();
      } else log.warn({ subject: item.subject, reason: item.reason }, "invalid discovery event ignored");
    }
  })().catch((err) => log.error({ err: String(err) }, "discovery reader stopped"));

  // Mesh configuration (VirtualService, DestinationRule, ...) from the CONFIG stream.
  const configReader = new StateReader(bus.js, { stream: streamName(c.mesh, "config"), filter: domainFilter(c.mesh, "config") });
  const configReading = (async () => {
    for await (const item of configReader) {
      if (item.kind === "caught-up") caughtUp();
      else if (item.kind === "state") {
        const d = item.event.data as { kind: string; namespace: string; name: string; spec: Record<string, unknown> };
        model.upsertConfig(item.subject, { kind: d.kind, namespace: d.namespace, name: d.name, spec: d.spec });
        changed();
      } else if (item.kind === "deleted") {
        model.removeConfig(item.subject);
        changed();
      } else if (item.kind === "invalid") log.warn({ subject: item.subject, reason: item.reason }, "invalid config event ignored");
    }
  })().catch((err) => log.error({ err: String(err) }, "config reader stopped"));

  let watcher: ConfigWatcher | undefined;
  if (c.configCluster) {
    watcher = new ConfigWatcher({ mesh: c.mesh, access: c.configCluster, bus, publisher, log });
    await watcher.start();
  }

  return {
    port,
    cache,
    ads,
    ready,
    async stop() {
      clearTimeout(timer);
      clearTimeout(statusTimer);
      await watcher?.stop();
      await reader.close();
      await configReader.close();
      await reading;
      await configReading;
      await ads.stop();
      await bus.close();
    },
  };
}
