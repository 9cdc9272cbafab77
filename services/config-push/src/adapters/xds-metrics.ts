import { typeDescriptor } from "@isthmus/xds";
import { type MeterProvider, metrics, type ObservableResult } from "@opentelemetry/api";

/*
 * Istio's pilot_* series under Istio's names, labels and buckets, so its Grafana dashboards
 * ("Istio Control Plane") read config-push as they read istiod. Durations in seconds.
 */
const SECONDS = [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30];

function create(provider: MeterProvider) {
  const meter = provider.getMeter("config-push");
  const pushes = meter.createCounter("pilot_xds_pushes", { description: "xDS responses sent, by type (cds, eds, lds, rds, sds)." });
  const rejects = meter.createCounter("pilot_total_xds_rejects", { description: "xDS responses a proxy rejected (NACK), by type." });
  const triggers = meter.createCounter("pilot_push_triggers", {
    description: "Changes that started a push, by what changed (endpoint, config, secret, networks).",
  });
  const histogram = (name: string, unit: string, buckets: number[], description: string) =>
    meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: buckets } });
  const convergence = histogram(
    "pilot_proxy_convergence_time",
    "s",
    [0.1, 0.5, 1, 3, 5, 10, 20, 30],
    "Seconds from the first change of a push to a proxy acknowledging it.",
  );
  const pushTime = histogram(
    "pilot_xds_push_time",
    "s",
    SECONDS,
    "Seconds from a proxy's push being queued (waiting for a push slot included) to its response being written, by type.",
  );
  const configSize = histogram(
    "pilot_xds_config_size_bytes",
    "By",
    [1, 10_000, 1_000_000, 4_000_000, 10_000_000, 40_000_000],
    "Size of the xDS responses sent, by type.",
  );
  const debounce = histogram("pilot_debounce_time", "s", SECONDS, "Seconds from the first change entering the debounce to the rebuild it starts.");
  const connected = meter.createObservableGauge("pilot_xds", {
    description: "Proxies connected to this replica, by proxy version and protocol (sotw, delta).",
  });
  return { pushes, rejects, triggers, convergence, pushTime, configSize, debounce, connected };
}

// Made on first use, not at import: OpenTelemetry's global meter provider has no proxy, so
// instruments made before telemetry starts (main.ts imports this first) would stay no-ops.
let made: { provider: MeterProvider; i: ReturnType<typeof create> } | undefined;
function instruments(): ReturnType<typeof create> {
  const provider = metrics.getMeterProvider();
  if (made?.provider !== provider) made = { provider, i: create(provider) };
  return made.i;
}

export type PushTrigger = "endpoint" | "config" | "secret" | "networks";

/** The type label Istio uses (cds, eds, ...); the URL itself for a type outside the table. */
const typeLabel = (typeUrl: string) => typeDescriptor(typeUrl)?.metric ?? typeUrl;

export const xdsMetrics = {
  sent(typeUrl: string, bytes: number, queuedAt: number | undefined): void {
    const type = typeLabel(typeUrl);
    const i = instruments();
    i.pushes.add(1, { type });
    i.configSize.record(bytes, { type });
    if (queuedAt !== undefined) i.pushTime.record((performance.now() - queuedAt) / 1000, { type });
  },
  rejected(typeUrl: string): void {
    instruments().rejects.add(1, { type: typeLabel(typeUrl) });
  },
  converged(seconds: number): void {
    instruments().convergence.record(seconds);
  },
  debounced(seconds: number): void {
    instruments().debounce.record(seconds);
  },
  triggered(kind: PushTrigger): void {
    instruments().triggers.add(1, { type: kind });
  },
  /** Report the connected proxies (by version and protocol) at each collection, until the returned function is called. */
  observeConnected(count: () => Map<string, number>): () => void {
    const cb = (r: ObservableResult) => {
      for (const [key, n] of count()) {
        const [version, protocol] = key.split("\n");
        r.observe(n, { version: version ?? "unknown", type: protocol ?? "sotw" });
      }
    };
    const { connected } = instruments();
    connected.addCallback(cb);
    return () => connected.removeCallback(cb);
  },
};
