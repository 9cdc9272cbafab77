import { type Bus, type BusLogger, hubStreamName, type StateItem, StateReader } from "@isthmus/bus";
import { type ConfigObject, formatMessage, readmit } from "@isthmus/config";
import { type DataOf, domainFilter, networkGatewayV1, parseSubject, serviceStateV1, streamName, type trustBundleUpdatedV1 } from "@isthmus/events";
import type { MeshModel, ServiceState } from "../domain/mesh-model.js";
import { MESH_SUPPORT } from "../domain/support.js";
import type { PushTrigger } from "./xds-metrics.js";

export interface FeedOptions {
  mesh: string;
  /** Serve only these clusters' services (every cluster when unset). */
  clusters?: string[];
  /** A remote control plane: these clusters from the leaf's own DISCOVERY stream, the rest from the hub's mirrors. */
  remoteFor?: string[];
  log: BusLogger;
  /** The model changed (what changed, and the trace the causing event carries). */
  changed(kind: PushTrigger, traceparent: string | undefined): void;
}

/** The parsed subject, or undefined for one that is not an Isthmus subject. */
function parsed(subject: string): ReturnType<typeof parseSubject> | undefined {
  try {
    return parseSubject(subject);
  } catch {
    return undefined;
  }
}

/**
 * The streams config-push follows, turned into model commands: service and gateway states
 * (DISCOVERY), mesh configuration (CONFIG), the trust bundle (CA). `ready` resolves once
 * every stream has been read to its end.
 */
export class Feed {
  readonly ready: Promise<void>;
  private readonly readers: StateReader[] = [];
  private readonly readings: Array<Promise<void>> = [];
  private readonly gatewaySubjects = new Map<string, string>();
  private readonly bundleSubjects = new Map<string, string>();

  constructor(bus: Bus, model: MeshModel, o: FeedOptions) {
    const mesh = o.mesh;
    const remote = o.remoteFor?.length ? new Set(o.remoteFor) : undefined;
    const ownDiscovery = streamName(mesh, "discovery");
    const discoverySources = remote
      ? [
          { stream: ownDiscovery, accept: (cluster: string) => remote.has(cluster) },
          { stream: hubStreamName(mesh, "discovery"), accept: (cluster: string) => !remote.has(cluster) },
        ]
      : [{ stream: ownDiscovery, accept: () => true }];
    let pending = discoverySources.length + 2;
    let resolveReady!: () => void;
    this.ready = new Promise<void>((r) => {
      resolveReady = r;
    });
    const caughtUp = () => {
      if (--pending === 0) resolveReady();
    };
    const follow = (stream: string, filter: string, what: string, on: (item: Extract<StateItem, { kind: "state" | "deleted" }>) => void | Promise<void>) => {
      const reader = new StateReader(bus.js, { stream, filter });
      this.readers.push(reader);
      this.readings.push(
        (async () => {
          for await (const item of reader) {
            if (item.kind === "caught-up") caughtUp();
            else if (item.kind === "invalid") o.log.warn({ subject: item.subject, reason: item.reason }, `invalid ${what} event ignored`);
            else await on(item);
          }
        })().catch((err) => o.log.error({ err: String(err), stream }, `${what} reader stopped`)),
      );
    };
    const inScope = (cluster: string) => !o.clusters || o.clusters.includes(cluster);
    for (const src of discoverySources)
      follow(src.stream, domainFilter(mesh, "discovery"), "discovery", (item) => {
        if (item.kind === "state") {
          if (item.event.type === serviceStateV1.type) {
            const s = item.event.data as ServiceState;
            if (!inScope(s.cluster) || !src.accept(s.cluster)) return;
            model.upsert(item.subject, s);
            o.changed("endpoint", item.event.traceparent);
          } else if (item.event.type === networkGatewayV1.type) {
            // A remote control plane takes gateways from its own stream only.
            if (remote && src.stream !== ownDiscovery) return;
            const g = item.event.data as DataOf<typeof networkGatewayV1>;
            model.setGateway(g.network, g.addresses);
            this.gatewaySubjects.set(item.subject, g.network);
            o.changed("networks", item.event.traceparent);
          }
          return;
        }
        const subject = parsed(item.subject);
        if (subject?.tokens[0] === "service" && subject.tokens[1] !== undefined && !src.accept(subject.tokens[1])) return;
        model.remove(item.subject);
        const network = this.gatewaySubjects.get(item.subject);
        if (network !== undefined) {
          this.gatewaySubjects.delete(item.subject);
          model.removeGateway(network);
        }
        o.changed(network !== undefined ? "networks" : "endpoint", item.event.traceparent);
      });

    follow(remote ? hubStreamName(mesh, "config") : streamName(mesh, "config"), domainFilter(mesh, "config"), "config", async (item) => {
      if (item.kind === "state") {
        const d = item.event.data as ConfigObject;
        // Only what admission accepts is translated, whoever published it; the last good version stays.
        const errors = (await readmit(d, MESH_SUPPORT)).messages.filter((m) => m.level === "Error");
        if (errors.length) {
          o.log.warn({ subject: item.subject, errors: errors.map(formatMessage) }, "config object refused by admission; its last good version stays");
          return;
        }
        model.upsertConfig(item.subject, { kind: d.kind, namespace: d.namespace, name: d.name, spec: d.spec });
      } else model.removeConfig(item.subject);
      o.changed("config", item.event.traceparent);
    });

    follow(streamName(mesh, "ca"), domainFilter(mesh, "ca", "trust-bundle"), "CA", (item) => {
      if (item.kind === "state") {
        const b = item.event.data as DataOf<typeof trustBundleUpdatedV1>;
        model.trustBundles.set(b.trustDomain, b.roots);
        this.bundleSubjects.set(item.subject, b.trustDomain);
      } else {
        const td = this.bundleSubjects.get(item.subject);
        if (td !== undefined) model.trustBundles.delete(td);
      }
      o.changed("secret", item.event.traceparent);
    });
  }

  /** Every stream is being followed (false while a reader's consumer is gone and being recreated). */
  get following(): boolean {
    return this.readers.every((r) => r.following);
  }

  async close(): Promise<void> {
    for (const r of this.readers) await r.close();
    await Promise.all(this.readings);
  }
}
