import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { Bus, type BusConnectOptions, type BusLogger, hubStreamName, Publisher, publishBestEffort, StateReader, silentLogger } from "@isthmus/bus";
import { type ConfigObject, formatMessage, readmit } from "@isthmus/config";
import {
  buildEvent,
  type DataOf,
  domainFilter,
  networkGatewayV1,
  parseSubject,
  proxyStatusV1,
  serviceStateV1,
  streamName,
  type trustBundleUpdatedV1,
} from "@isthmus/events";
import type { ClusterAccess } from "@isthmus/k8s";
import type { SnapshotCache, TypeUrl } from "@isthmus/xds";
import { AdsServer, type ProxyConnection } from "./adapters/ads-server.js";
import { ConfigWatcher } from "./adapters/config-watcher.js";
import { debugRoutes } from "./adapters/debug.js";
import type { DeltaStream } from "./adapters/delta-ads.js";
import { TranslationStatus } from "./adapters/translation-status.js";
import { knownServices, MeshModel, type ServiceState } from "./domain/mesh-model.js";
import { MESH_SUPPORT } from "./domain/support.js";
import { DEFAULT_TRANSLATE } from "./domain/translate.js";
import { Views } from "./views.js";

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
  /**
   * Serve only these clusters' services (a remote control plane serving its own cluster);
   * every cluster of the mesh when unset.
   */
  clusters?: string[];
  /**
   * Run as the remote control plane of these clusters, on a NATS leaf node: their states
   * come from the leaf's own DISCOVERY stream (published in the cluster, so they keep
   * flowing when the WAN is cut), everything else from the hub's mirrors (`HUB_…`).
   */
  remoteFor?: string[];
  /** SPIFFE trust domain of the mesh (default cluster.local). */
  trustDomain?: string;
  /** Where sidecars' agents keep their certificate files (the SDS `default` secret). */
  sdsCertDir?: string;
  /** At most this many proxies with an unacknowledged push (default 1,000). */
  maxConcurrentPushes?: number;
  /**
   * Serve xDS over TLS with this identity and require client certificates from these roots
   * (PEM files, re-read when they change: `isthmus agent` output works as is). Proxies are
   * then identified by the SPIFFE id of their certificate.
   */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /**
   * With TLS, also serve plaintext on this port, as Istio keeps 15010 next to 15012: gRPC's
   * xDS clients (`@grpc/grpc-js-xds` 1.14) speak only insecure or Google credentials to
   * the control plane. Proxies there are identified by their node id alone.
   */
  plaintextPort?: number;
  log?: BusLogger;
}

export interface RunningConfigPush {
  port: number;
  /** The plaintext port next to a TLS one, when asked for. */
  plaintextPort?: number | undefined;
  /** The default view's cache (proxyless clients without a network). */
  cache: SnapshotCache;
  views: Views;
  model: MeshModel;
  ads: AdsServer;
  /** /debug/syncz and /debug/config_dump, to mount on the service's HTTP server. */
  debug: ReturnType<typeof debugRoutes>;
  /** Resolves once the model has caught up with the stream and the first snapshot is built. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** config-push: rebuilds its model from the DISCOVERY stream, then serves it as xDS. */
export async function startConfigPush(c: ConfigPushConfig): Promise<RunningConfigPush> {
  const log = c.log ?? silentLogger;
  const bus = await Bus.connect(c.bus);
  const model = new MeshModel();
  const trustDomain = c.trustDomain ?? DEFAULT_TRANSLATE.trustDomain;
  const views = new Views(model, { trustDomain, sdsCertDir: c.sdsCertDir ?? DEFAULT_TRANSLATE.sdsCertDir });
  const ads = new AdsServer(views, { mesh: c.mesh, trustDomain, log, ...(c.maxConcurrentPushes ? { maxConcurrentPushes: c.maxConcurrentPushes } : {}) });
  views.onChange = (cache, types) => ads.push(cache, types);
  const creds = c.tls
    ? grpc.experimental.createCertificateProviderServerCredentials(
        new grpc.experimental.FileWatcherCertificateProvider({
          certificateFile: c.tls.certFile,
          privateKeyFile: c.tls.keyFile,
          caCertificateFile: c.tls.caFile,
          refreshIntervalMs: 5_000,
        }),
        new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: c.tls.caFile, refreshIntervalMs: 5_000 }),
        true,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await ads.listen(c.host, c.port, creds);
  const plaintextPort = c.tls && c.plaintextPort !== undefined ? await ads.bind(c.host, c.plaintextPort, grpc.ServerCredentials.createInsecure()) : undefined;
  const instance = c.instance ?? `config-push-${randomBytes(3).toString("hex")}`;

  // Proxy status on the PUSH stream: dirty proxies collected and flushed together (one
  // timer for all), the latest state per proxy subject.
  const publisher = new Publisher(bus.js);
  const dirtyStatus = new Map<string, { p: ProxyConnection | DeltaStream; connected: boolean }>();
  let statusTimer: NodeJS.Timeout | undefined;
  const flushStatus = () => {
    statusTimer = undefined;
    const batch = [...dirtyStatus.values()];
    dirtyStatus.clear();
    for (const { p, connected } of batch) {
      const types: Record<string, Record<string, string>> = {};
      for (const [type, st] of p.types) {
        const t: Record<string, string> = { latest: p.cache.version(type as TypeUrl) };
        if (st.sent) t.sent = st.sent;
        if (st.acked) t.acked = st.acked;
        if (st.nacked) t.nacked = st.nacked;
        if (st.error) t.error = st.error;
        types[type] = t;
      }
      const ev = buildEvent(proxyStatusV1, c.mesh, { proxyId: p.id, instance, connected, since: p.connectedAt.toISOString(), types }, { source: instance });
      try {
        publishBestEffort(bus.nc, ev.subject, ev.event);
      } catch (err) {
        log.warn({ err: String(err), proxy: p.id }, "proxy status not published");
      }
    }
  };
  ads.onStatus = (p, connected) => {
    dirtyStatus.set(p.id, { p, connected });
    statusTimer ??= setTimeout(flushStatus, c.statusIntervalMs ?? 500);
  };

  let timer: NodeJS.Timeout | undefined;
  let firstChangeAt = 0;
  const translation = new TranslationStatus(c.mesh, publisher, instance, log);
  const rebuild = () => {
    timer = undefined;
    firstChangeAt = 0;
    const problems = views.rebuild();
    for (const p of problems) log.warn(p, "mesh configuration skipped");
    translation.report(problems);
  };
  const changed = () => {
    const now = Date.now();
    if (!firstChangeAt) firstChangeAt = now;
    clearTimeout(timer);
    const wait = Math.min(c.debounceMs ?? 100, Math.max(0, firstChangeAt + (c.maxDelayMs ?? 10_000) - now));
    timer = setTimeout(rebuild, wait);
  };

  // Services and east-west gateways (the whole DISCOVERY domain: one filter subject); a
  // remote control plane reads its own clusters locally and the rest from the hub's mirror.
  const remote = c.remoteFor?.length ? new Set(c.remoteFor) : undefined;
  const discoverySources = remote
    ? [
        { stream: streamName(c.mesh, "discovery"), accept: (cluster: string) => remote.has(cluster) },
        { stream: hubStreamName(c.mesh, "discovery"), accept: (cluster: string) => !remote.has(cluster) },
      ]
    : [{ stream: streamName(c.mesh, "discovery"), accept: () => true }];
  const inScope = (cluster: string) => !c.clusters || c.clusters.includes(cluster);
  const clusterOf = (subject: string) => {
    try {
      return parseSubject(subject).tokens[1];
    } catch {
      return undefined;
    }
  };
  // Ready (and the first snapshot built) once every stream has been read to its end.
  let pending = discoverySources.length + 2;
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
  const gatewaySubjects = new Map<string, string>();
  const bundleSubjects = new Map<string, string>();
  const readers = discoverySources.map((src) => ({ src, reader: new StateReader(bus.js, { stream: src.stream, filter: domainFilter(c.mesh, "discovery") }) }));
  const readings = readers.map(({ src, reader }) =>
    (async () => {
      for await (const item of reader) {
        if (item.kind === "caught-up") caughtUp();
        else if (item.kind === "state") {
          if (item.event.type === serviceStateV1.type) {
            const s = item.event.data as ServiceState;
            if (!inScope(s.cluster) || !src.accept(s.cluster)) continue;
            model.upsert(item.subject, s);
          } else if (item.event.type === networkGatewayV1.type) {
            if (remote && src.stream !== streamName(c.mesh, "discovery")) continue;
            const g = item.event.data as DataOf<typeof networkGatewayV1>;
            model.setGateway(g.network, g.addresses);
            gatewaySubjects.set(item.subject, g.network);
          } else continue;
          changed();
        } else if (item.kind === "deleted") {
          const cluster = clusterOf(item.subject);
          if (cluster !== undefined && item.subject.includes(".discovery.service.") && !src.accept(cluster)) continue;
          model.remove(item.subject);
          const network = gatewaySubjects.get(item.subject);
          if (network !== undefined) {
            gatewaySubjects.delete(item.subject);
            model.removeGateway(network);
          }
          changed();
        } else log.warn({ subject: item.subject, reason: item.reason }, "invalid discovery event ignored");
      }
    })().catch((err) => log.error({ err: String(err), stream: src.stream }, "discovery reader stopped")),
  );

  // Mesh configuration (VirtualService, DestinationRule, ...) from the CONFIG stream.
  const configReader = new StateReader(bus.js, {
    stream: remote ? hubStreamName(c.mesh, "config") : streamName(c.mesh, "config"),
    filter: domainFilter(c.mesh, "config"),
  });
  const configReading = (async () => {
    for await (const item of configReader) {
      if (item.kind === "caught-up") caughtUp();
      else if (item.kind === "state") {
        const d = item.event.data as ConfigObject;
        // Only what admission accepts is translated, whoever published it; the last good version stays.
        const errors = (await readmit(d, MESH_SUPPORT)).messages.filter((m) => m.level === "Error");
        if (errors.length) {
          log.warn({ subject: item.subject, errors: errors.map(formatMessage) }, "config object refused by admission; its last good version stays");
          continue;
        }
        model.upsertConfig(item.subject, { kind: d.kind, namespace: d.namespace, name: d.name, spec: d.spec });
        changed();
      } else if (item.kind === "deleted") {
        model.removeConfig(item.subject);
        changed();
      } else if (item.kind === "invalid") log.warn({ subject: item.subject, reason: item.reason }, "invalid config event ignored");
    }
  })().catch((err) => log.error({ err: String(err) }, "config reader stopped"));

  // The trust bundle (SDS ROOTCA) from the CA's TrustBundleUpdated.
  const caReader = new StateReader(bus.js, { stream: streamName(c.mesh, "ca"), filter: domainFilter(c.mesh, "ca", "trust-bundle") });
  const caReading = (async () => {
    for await (const item of caReader) {
      if (item.kind === "caught-up") caughtUp();
      else if (item.kind === "state") {
        const b = item.event.data as DataOf<typeof trustBundleUpdatedV1>;
        model.trustBundles.set(b.trustDomain, b.roots);
        bundleSubjects.set(item.subject, b.trustDomain);
        changed();
      } else if (item.kind === "deleted") {
        const td = bundleSubjects.get(item.subject);
        if (td !== undefined) model.trustBundles.delete(td);
        changed();
      } else log.warn({ subject: item.subject, reason: item.reason }, "invalid CA event ignored");
    }
  })().catch((err) => log.error({ err: String(err) }, "CA reader stopped"));

  let watcher: ConfigWatcher | undefined;
  if (c.configCluster) {
    watcher = new ConfigWatcher({ mesh: c.mesh, access: c.configCluster, bus, log, services: () => knownServices(model) });
    await watcher.start();
  }

  return {
    port,
    plaintextPort,
    cache: views.defaultCache,
    views,
    model,
    ads,
    debug: debugRoutes(ads, instance),
    ready,
    async stop() {
      clearTimeout(timer);
      clearTimeout(statusTimer);
      await watcher?.stop();
      for (const r of readers) await r.reader.close();
      await configReader.close();
      await caReader.close();
      await Promise.all(readings);
      await configReading;
      await caReading;
      await ads.stop();
      await bus.close();
    },
  };
}
