import { type Meter, metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { NodeSDK, type NodeSDKConfiguration } from "@opentelemetry/sdk-node";
import { HealthServer, type HealthServerOptions } from "./health-server.js";
import { createLogger, type Logger } from "./logger.js";
import { servePrometheus } from "./prometheus.js";

export interface TelemetryOptions {
  serviceName: string;
  /** Port of the /healthz /readyz /metrics server (env HEALTH_PORT; 0 = any free port). */
  port?: number;
  host?: string;
  tls?: HealthServerOptions["tls"];
  logLevel?: string;
  /** Where spans go (an in-memory exporter in tests); given, it replaces the OTLP exporter the environment would configure. */
  spanProcessors?: NodeSDKConfiguration["spanProcessors"];
}

export interface Telemetry {
  readonly logger: Logger;
  readonly meter: Meter;
  readonly health: HealthServer;
  shutdown(): Promise<void>;
}

let sdk: NodeSDK | undefined;
let exporter: PrometheusExporter | undefined;

// A span processor that keeps nothing: with no exporter configured, spans still get
// real ids, so trace context crosses the bus and reaches the logs.
const keepNothing = {
  onStart() {},
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

function startSdk(serviceName: string, extra: NodeSDKConfiguration["spanProcessors"] = []): PrometheusExporter {
  if (exporter) return exporter;
  exporter = new PrometheusExporter({ preventServerStart: true });
  const exportsTraces = Boolean(process.env.OTEL_TRACES_EXPORTER || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  sdk = new NodeSDK({
    serviceName,
    metricReaders: [exporter],
    ...(exportsTraces && !extra.length ? {} : { spanProcessors: [...(exportsTraces ? [] : [keepNothing]), ...extra] }),
    instrumentations: [],
  });
  sdk.start();
  return exporter;
}

/**
 * One call per process: OpenTelemetry (W3C trace context, traces exported over OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, metrics on /metrics), a pino logger carrying
 * trace ids, and the health server (listening when this resolves).
 */
export async function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  const prom = startSdk(o.serviceName, o.spanProcessors);
  const logger = createLogger(o.serviceName, o.logLevel);
  const envPort = process.env.HEALTH_PORT ? Number(process.env.HEALTH_PORT) : undefined;
  const hs: HealthServerOptions = {
    port: o.port ?? envPort ?? 0,
    host: o.host ?? process.env.HEALTH_HOST ?? "127.0.0.1",
    metrics: (_req, res) => servePrometheus(prom, res),
  };
  // HEALTH_TLS_CERT + HEALTH_TLS_KEY: the health, readiness, metrics and debug endpoints over TLS.
  const envTls =
    process.env.HEALTH_TLS_CERT && process.env.HEALTH_TLS_KEY ? { certFile: process.env.HEALTH_TLS_CERT, keyFile: process.env.HEALTH_TLS_KEY } : undefined;
  const tls = o.tls ?? envTls;
  if (tls) hs.tls = tls;
  const health = new HealthServer(hs);
  await health.listen();
  return {
    logger,
    meter: metrics.getMeter(o.serviceName),
    health,
    async shutdown() {
      health.markShuttingDown();
      await health.close();
    },
  };
}

/** Flush and stop the SDK at process exit. */
export async function shutdownTelemetrySdk(): Promise<void> {
  await sdk?.shutdown().catch(() => {});
  sdk = undefined;
  exporter = undefined;
}
