import { Bus, type BusConnectOptions, type BusLogger, StateReader, silentLogger } from "@isthmus/bus";
import { domainFilter, streamName } from "@isthmus/events";
import { SnapshotCache, type TypeUrl } from "@isthmus/xds";
import { AdsServer } from "./adapters/ads-server.js";
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

  let timer: NodeJS.Timeout | undefined;
  let firstChangeAt = 0;
  const rebuild = () => {
    timer = undefined;
    firstChangeAt = 0;
    const changed: TypeUrl[] = [];
    for (const [type, inputs] of translate(model.hostPorts())) if (cache.setType(type, inputs)) changed.push(type);
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
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => {
    caughtUp = r;
  });
  const reading = (async () => {
    for await (const item of reader) {
      if (item.kind === "caught-up") {
        rebuild();
        caughtUp();
      } else if (item.kind === "state") {
        model.upsert(item.subject, item.event.data as ServiceState);
        changed();
      } else if (item.kind === "deleted") {
        model.remove(item.subject);
        changed();
      } else log.warn({ subject: item.subject, reason: item.reason }, "invalid discovery event ignored");
    }
  })().catch((err) => log.error({ err: String(err) }, "discovery reader stopped"));

  return {
    port,
    cache,
    ads,
    ready,
    async stop() {
      clearTimeout(timer);
      await reader.close();
      await reading;
      await ads.stop();
      await bus.close();
    },
  };
}
