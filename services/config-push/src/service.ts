import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { awaitMeshStreams, Bus, type BusConnectOptions, type BusLogger, Publisher, silentLogger } from "@isthmus/bus";
import type { ClusterAccess } from "@isthmus/k8s";
import type { SnapshotCache, Violation } from "@isthmus/xds";
import { AdsServer } from "./adapters/ads-server.js";
import { ConfigWatcher } from "./adapters/config-watcher.js";
import { debugRoutes } from "./adapters/debug.js";
import { Feed } from "./adapters/feed.js";
import { StatusPublisher } from "./adapters/status-publisher.js";
import { TranslationStatus } from "./adapters/translation-status.js";
import type { XdsLimits } from "./adapters/xds-limits.js";
import { xdsMetrics } from "./adapters/xds-metrics.js";
import { knownServices, MeshModel } from "./domain/mesh-model.js";
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
  /** How long a pushed proxy may take to answer before it gives its push slot back (default 5 s). */
  ackTimeoutMs?: number;
  /** Caps on what one xDS client may send and have queued (XDS_LIMITS by default). */
  xdsLimits?: Partial<XdsLimits>;
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
  /** Check every pushed view against Envoy's constraints (libs/xds validate) and log what breaks them. */
  validateXds?: boolean;
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
  /** With `validateXds`: every Envoy constraint violation found in what was pushed so far (the first 1,000). */
  xdsViolations: Violation[];
  /** Resolves once the model has caught up with the stream and the first snapshot is built. */
  ready: Promise<void>;
  /** For readiness: every stream it reads is being followed now (false while a consumer is gone). */
  following(): boolean;
  stop(): Promise<void>;
}

/** config-push: rebuilds its model from the DISCOVERY stream, then serves it as xDS. */
export async function startConfigPush(c: ConfigPushConfig): Promise<RunningConfigPush> {
  const log = c.log ?? silentLogger;
  const bus = await Bus.connect(c.bus);
  await awaitMeshStreams(bus.jsm, c.mesh, { log, replicas: bus.streamReplicas });
  const model = new MeshModel();
  const trustDomain = c.trustDomain ?? DEFAULT_TRANSLATE.trustDomain;
  const views = new Views(model, { trustDomain, sdsCertDir: c.sdsCertDir ?? DEFAULT_TRANSLATE.sdsCertDir });
  const ads = new AdsServer(views, {
    mesh: c.mesh,
    trustDomain,
    log,
    ...(c.maxConcurrentPushes ? { maxConcurrentPushes: c.maxConcurrentPushes } : {}),
    ...(c.ackTimeoutMs ? { ackTimeoutMs: c.ackTimeoutMs } : {}),
    ...(c.xdsLimits ? { limits: c.xdsLimits } : {}),
  });
  views.onChange = (cache, types) => ads.push(cache, types);
  const xdsViolations: Violation[] = [];
  if (c.validateXds)
    views.onViolations = (found) => {
      for (const v of found) {
        if (v.severity === "error") log.error({ resource: v.resource, path: v.path, rule: v.rule }, `xDS resource breaks an Envoy constraint: ${v.message}`);
        if (xdsViolations.length < 1_000) xdsViolations.push(v);
      }
    };
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

  const status = new StatusPublisher(bus.nc, {
    mesh: c.mesh,
    instance,
    intervalMs: c.statusIntervalMs ?? 500,
    log,
    connectionsOf: (id) => ads.connectionsOf(id),
  });
  ads.onStatus = (p) => status.changed(p);

  // Changes are debounced into one rebuild; each rebuild that changes something is a push
  // round (a span from its causes to the last ACK).
  let timer: NodeJS.Timeout | undefined;
  let firstChangeAt = 0;
  const translation = new TranslationStatus(c.mesh, new Publisher(bus.js), instance, log);
  const rebuild = () => {
    timer = undefined;
    firstChangeAt = 0;
    ads.rounds.begin();
    try {
      const problems = views.rebuild();
      for (const p of problems) log.warn(p, "mesh configuration skipped");
      translation.report(problems);
    } finally {
      ads.rounds.end();
    }
  };
  let following = false;
  const feed = new Feed(bus, model, {
    mesh: c.mesh,
    ...(c.clusters ? { clusters: c.clusters } : {}),
    ...(c.remoteFor ? { remoteFor: c.remoteFor } : {}),
    log,
    changed: (kind, traceparent) => {
      if (!following) return; // the first snapshot is built once every stream is read
      xdsMetrics.triggered(kind);
      ads.rounds.changed(traceparent);
      const now = Date.now();
      if (!firstChangeAt) firstChangeAt = now;
      clearTimeout(timer);
      const wait = Math.min(c.debounceMs ?? 100, Math.max(0, firstChangeAt + (c.maxDelayMs ?? 10_000) - now));
      timer = setTimeout(rebuild, wait);
    },
  });
  const ready = feed.ready.then(() => {
    following = true;
    clearTimeout(timer);
    rebuild();
  });

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
    xdsViolations,
    model,
    ads,
    debug: debugRoutes(ads, instance),
    ready,
    following: () => feed.following,
    async stop() {
      clearTimeout(timer);
      status.stop();
      await watcher?.stop();
      await feed.close();
      await ads.stop();
      await bus.close();
    },
  };
}
