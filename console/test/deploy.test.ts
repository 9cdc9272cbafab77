import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadYaml } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";

// The console's and the dashboards' deployment files checked against the code that serves them.
const root = join(import.meta.dirname, "..", "..");
const read = (p: string) => readFileSync(join(root, p), "utf8");
type Service = { environment?: Record<string, string>; ports?: string[]; profiles?: string[]; volumes?: string[] };
const compose = loadYaml<{ services: Record<string, Service> }>(read("docker-compose.yml")).services;

/** Metric names the code registers (meter.create*("name")). */
function codeMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "dist" || e.name === "test") continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts"))
        for (const m of readFileSync(p, "utf8").matchAll(/create(?:Counter|Histogram|UpDownCounter|Gauge|Observable\w*)\(\s*"([a-z_]+)"/g))
          names.add(m[1] as string);
    }
  };
  for (const d of ["services", "libs"]) walk(join(root, d));
  return names;
}

// Istio's names for what the xDS-core work exports; the dashboard uses them so Istio's own dashboards work too.
const ISTIO = new Set(["pilot_xds", "pilot_xds_pushes", "pilot_proxy_convergence_time", "pilot_total_xds_rejects"]);

describe("deployment of the console and the dashboards", () => {
  it("compose publishes the console, Prometheus and Grafana on the host's loopback only, the last two under a profile", () => {
    expect(compose.console?.ports).toEqual(["127.0.0.1:20001:20001"]);
    expect(compose.console?.environment?.CONSOLE_PORT).toBe("20001");
    for (const s of ["prometheus", "grafana"]) {
      expect(compose[s]?.profiles).toEqual(["observability"]);
      for (const p of compose[s]?.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it("Prometheus scrapes the services' health ports, and every dashboard query names a metric the code registers or Istio's name for one", () => {
    const prom = loadYaml<{ scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> }>(read("deploy/prometheus/prometheus.yml"));
    for (const t of prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))) {
      const [svc, port] = t.split(":");
      expect(compose[svc as string]?.environment?.HEALTH_PORT, t).toBe(port);
    }
    const ds = loadYaml<{ datasources: Array<{ uid: string; url: string }> }>(read("deploy/grafana/provisioning/datasources/prometheus.yaml")).datasources;
    const metrics = codeMetrics();
    expect(metrics.size).toBeGreaterThan(0);
    const dir = join(root, "deploy/grafana/dashboards");
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(dir, f), "utf8")) as {
        panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
      };
      for (const p of d.panels) {
        expect(
          ds.map((x) => x.uid),
          p.title,
        ).toContain(p.datasource.uid);
        for (const t of p.targets) {
          const names = [...t.expr.matchAll(/\b(pilot_[a-z_]+|isthmus_[a-z_]+|up)\b/g)].map((m) => (m[1] as string).replace(/_bucket$/, ""));
          expect(names.length, p.title).toBeGreaterThan(0);
          for (const n of names) expect(n === "up" || ISTIO.has(n) || metrics.has(n), `${p.title}: ${n}`).toBe(true);
        }
      }
    }
  });
});
