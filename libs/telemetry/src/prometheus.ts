import type { ServerResponse } from "node:http";
import { type PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";

/**
 * The Prometheus text of everything the SDK collected, with every metric under the name it
 * was declared with. OpenTelemetry's JS exporter appends `_total` to each counter; Istio
 * exports without it (Go's `WithoutCounterSuffixes`) and its dashboards query the bare
 * names (`pilot_xds_pushes`), so a counter declared without the suffix keeps none.
 */
export async function prometheusText(exporter: PrometheusExporter): Promise<string> {
  const { resourceMetrics } = await exporter.collect();
  const bare = new Set<string>();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const m of scope.metrics) {
      if ("isMonotonic" in m && m.isMonotonic && !m.descriptor.name.endsWith("_total")) bare.add(m.descriptor.name);
    }
  const text = new PrometheusSerializer().serialize(resourceMetrics);
  if (!bare.size) return text;
  return text
    .split("\n")
    .map((line) => {
      const m = /^(# (?:HELP|TYPE|UNIT) )?([a-zA-Z_:][a-zA-Z0-9_:]*)_total(?=[ {]|$)/.exec(line);
      return m?.[2] && bare.has(m[2]) ? `${m[1] ?? ""}${m[2]}${line.slice(m[0].length)}` : line;
    })
    .join("\n");
}

export function servePrometheus(exporter: PrometheusExporter, res: ServerResponse): void {
  prometheusText(exporter).then(
    (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text),
    (err) => res.writeHead(500, { "content-type": "text/plain" }).end(`# failed to export metrics: ${err}\n`),
  );
}
