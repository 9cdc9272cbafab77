import { Publisher } from "@isthmus/bus";
import { startConsole } from "@isthmus/console";
import { buildEvent, clusterStatusV1, proxyStatusV1 } from "@isthmus/events";
import { launchChromium, meshFixture, noChromiumReason } from "@isthmus/testing";
import { type Figures, percentile, report, round } from "./report.js";
import { benchService } from "./xds-services.js";

const S = Number(process.env.BENCH_CONSOLE_SERVICES ?? 1000);
const P = Number(process.env.BENCH_CONSOLE_PROXIES ?? 10000);
const UPDATES = Number(process.env.BENCH_CONSOLE_UPDATES ?? 30);
const TYPES = [
  "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  "type.googleapis.com/envoy.config.listener.v3.Listener",
  "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
];

/**
 * The web console with S services and P proxy statuses on the streams: the backend's bootstrap,
 * the snapshot's size, time to first render in Chromium (navigation start to the topology on
 * screen), and the latency of an endpoint change from publish to the open page showing it.
 */
export async function benchConsole(): Promise<void> {
  const skip = noChromiumReason();
  if (skip) throw new Error(`bench console: ${skip}`);
  const servers = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const fx = await meshFixture("benchconsole", { servers });
  const pub = new Publisher(fx.bus.js);
  const figures: Figures = { services: S, proxy_statuses: P };
  const status = buildEvent(
    clusterStatusV1,
    fx.mesh,
    { cluster: "c1", mode: "managed", network: "n1", region: "r", zone: "z", state: "Synced", since: new Date().toISOString() },
    { source: "bench" },
  );
  await pub.publish(status.subject, status.event);
  await pub.publishWindowed(Array.from({ length: S }, (_, i) => benchService(fx.mesh, "c1", i, 0)));
  await pub.publishWindowed(
    Array.from({ length: P }, (_, i) =>
      buildEvent(
        proxyStatusV1,
        fx.mesh,
        {
          proxyId: `sidecar~10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}~app-${i}.bench~bench.svc.cluster.local`,
          instance: "config-push-0",
          connected: true,
          since: new Date().toISOString(),
          types: Object.fromEntries(TYPES.map((t) => [t, { latest: "v1", sent: "v1", acked: "v1" }])),
        },
        { source: "bench" },
      ),
    ),
  );

  const t0 = performance.now();
  const c = await startConsole({ mesh: fx.mesh, host: "127.0.0.1", port: 0, bus: { servers, waitOnFirstConnect: false }, log: () => {} });
  await c.caughtUp;
  figures.backend_bootstrap_ms = round(performance.now() - t0, 1);
  figures.snapshot_kib = round((await (await fetch(new URL("./api/snapshot", c.url))).arrayBuffer()).byteLength / 1024, 0);
  figures.backend_rss_mib = round(process.memoryUsage().rss / 2 ** 20, 0);

  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const firsts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(c.url);
      await page.locator("body[data-ready=true]").waitFor({ timeout: 60_000 });
      await page
        .getByTestId("cluster-c1")
        .locator("tfoot")
        .filter({ hasText: `${S} services` })
        .waitFor({ timeout: 60_000 });
      // Navigation start to the first frame with the snapshot rendered (the page's own clock).
      firsts.push(Number(await page.evaluate("window.__consoleFirstRender")));
    }
    firsts.sort((a, b) => a - b);
    figures.first_render_ms_median = round(firsts[1] as number, 0);
    figures.browser_js_heap_mib = round(Number(await page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : NaN")) / 2 ** 20, 1);

    // svc-0 sorts first in its cluster: alternate it between 1 and 2 endpoints, timing each change to the page.
    const latencies: number[] = [];
    for (let k = 1; k <= UPDATES; k++) {
      const b = benchService(fx.mesh, "c1", 0, k);
      const want = k % 2 === 1 ? 1 : 2;
      b.event.data.endpoints = b.event.data.endpoints.slice(0, want);
      const sent = Date.now();
      await pub.publish(b.subject, b.event);
      // A function, not a string: the console's CSP forbids eval. Runs in the page, so it reads the page's clock.
      const seen = await page.waitForFunction(
        (n: number) => {
          const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
          const el = doc.querySelector('[data-testid="service-svc-0"] [data-testid="ready"]');
          return el?.textContent === String(n) ? Date.now() : false;
        },
        want,
        { polling: "raf", timeout: 30_000 },
      );
      latencies.push(Number(await seen.jsonValue()) - sent);
    }
    latencies.sort((a, b) => a - b);
    figures.update_latency_ms_p50 = percentile(latencies, 50);
    figures.update_latency_ms_p99 = percentile(latencies, 99);
    figures.update_latency_ms_max = latencies.at(-1) as number;
  } finally {
    await browser.close();
    await c.stop();
    await fx.dispose();
  }
  report("console", figures, {
    first_render_ms_median: "navigation start to the topology rendered, median of 3",
    update_latency_ms_p50: "publish to the open page showing it; includes the 100 ms SSE batch",
  });
}
