import type { TokenBucket } from "@isthmus/xds";
import { type ConfigResource, durationMs } from "./traffic.js";

/*
 * Local rate limiting (seed 003), configured in the shape of ASM's ASMLocalRateLimiter
 * (istio.alibabacloud.com): a workload selector and, per inbound port, a token bucket —
 * Envoy's local_ratelimit filter on that port of the selected sidecars' virtualInbound.
 *
 *   kind: ASMLocalRateLimiter
 *   spec:
 *     workloadSelector: { labels: { app: reviews } }
 *     configs:
 *     - match: { vhost: { port: 9080 } }
 *       limit: { fill_interval: { seconds: 1 }, quota: 100 }
 */

interface LimiterSpec {
  workloadSelector?: { labels?: Record<string, string> };
  isGateway?: boolean;
  configs?: Array<{
    match?: { vhost?: { name?: string; port?: number; route?: unknown } };
    limit?: { fill_interval?: { seconds?: number; nanos?: number } | string; quota?: number; per_downstream_connection?: boolean };
    limit_overrides?: unknown;
  }>;
}

export const LOCAL_RATE_LIMITER = "ASMLocalRateLimiter";

const intervalMs = (f: { seconds?: number; nanos?: number } | string | undefined) =>
  typeof f === "string" ? durationMs(f) : f ? (f.seconds ?? 0) * 1000 + Math.round((f.nanos ?? 0) / 1e6) : undefined;

/**
 * The token bucket for one inbound port of a workload with these labels: the first limiter
 * (by name) in its namespace that selects it with a usable config for the port.
 */
export function localRateLimit(
  configs: Iterable<ConfigResource>,
  w: { namespace: string; port: number; labels: Record<string, string> },
): TokenBucket | undefined {
  const limiters = [...configs].filter((c) => c.kind === LOCAL_RATE_LIMITER && c.namespace === w.namespace).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const c of limiters) {
    const spec = c.spec as LimiterSpec;
    if (spec.isGateway) continue;
    if (!Object.entries(spec.workloadSelector?.labels ?? {}).every(([k, v]) => w.labels[k] === v)) continue;
    for (const cfg of Array.isArray(spec.configs) ? spec.configs : []) {
      if (cfg.match?.vhost?.port !== undefined && cfg.match.vhost.port !== w.port) continue;
      if (unusable(cfg)) continue;
      const quota = cfg.limit?.quota as number;
      return {
        maxTokens: quota,
        tokensPerFill: quota,
        fillIntervalMs: intervalMs(cfg.limit?.fill_interval) as number,
        perConnection: cfg.limit?.per_downstream_connection ?? false,
      };
    }
  }
  return undefined;
}

type LimiterConfig = NonNullable<LimiterSpec["configs"]>[number];

function unusable(cfg: LimiterConfig): string | undefined {
  if (cfg.match?.vhost?.route || cfg.limit_overrides) return "match.vhost.route and limit_overrides are not supported; that config is skipped";
  let fill: number | undefined;
  try {
    fill = intervalMs(cfg.limit?.fill_interval);
  } catch {
    fill = undefined;
  }
  if (!fill || !cfg.limit?.quota || cfg.limit.quota < 1) return "limit needs fill_interval (> 0) and quota (> 0); that config is skipped";
  return undefined;
}

/**
 * What the limiters ask for that is not honoured, and — as proxyless gRPC has no local rate
 * limit filter — that they apply to Envoy sidecars only. Reported once per mesh rebuild.
 */
export function rateLimiterProblems(configs: Iterable<ConfigResource>): Array<{ resource: string; reason: string }> {
  const out: Array<{ resource: string; reason: string }> = [];
  for (const c of configs) {
    if (c.kind !== LOCAL_RATE_LIMITER) continue;
    const resource = `${LOCAL_RATE_LIMITER} ${c.namespace}/${c.name}`;
    const spec = c.spec as LimiterSpec;
    if (spec.isGateway) out.push({ resource, reason: "isGateway: gateways are not served by config-push" });
    for (const cfg of Array.isArray(spec.configs) ? spec.configs : []) {
      const why = unusable(cfg);
      if (why) out.push({ resource, reason: why });
    }
    out.push({
      resource,
      reason: "local rate limiting is not supported for proxyless gRPC (gRPC's xDS has no local_ratelimit filter): only Envoy sidecars it selects are limited",
    });
  }
  return out;
}
