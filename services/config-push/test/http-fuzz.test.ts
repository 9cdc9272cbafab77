import { connect } from "node:net";
import { startTelemetry, type Telemetry } from "@isthmus/telemetry";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Testbed, testbed } from "./testbed.js";

// Fuzz of the HTTP health and debug endpoints (issue 19), mounted as config-push's main
// mounts them: raw requests with random methods, paths, queries, headers and bodies, and
// malformed request lines, over TCP; afterwards /healthz, /readyz and /debug/syncz still
// answer a good client. Fixed seed, bounded count.
let tb: Testbed;
let tel: Telemetry;
let host: string;
let port: number;

beforeAll(async () => {
  tb = await testbed("httpfuzz", "sidecar~127.0.0.1~client.default~default.svc.cluster.local");
  tel = await startTelemetry({ serviceName: "config-push-fuzz", port: 0, logLevel: "silent" });
  tel.health.addCheck("streams", () => tb.cp.following());
  for (const [path, handler] of Object.entries(tb.cp.debug)) tel.health.addRoute(path, handler);
  const u = new URL(tel.health.url);
  host = u.hostname;
  port = Number(u.port);
});
afterAll(async () => {
  await tel?.shutdown();
  await tb?.dispose();
});

/** Sends raw bytes, returns the status line (or "" when the server closed without one), within 2 s. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = "";
    const done = () => {
      s.destroy();
      resolve(got.split("\r\n")[0] ?? "");
    };
    s.setTimeout(2_000, done);
    s.on("data", (b) => {
      got += b.toString("latin1");
      if (got.includes("\r\n\r\n")) done();
    });
    s.on("error", done);
    s.on("close", done);
    s.end(bytes);
  });
}

const token = fc.stringMatching(/^[!-~]{0,20}$/);
const path = fc.oneof(
  fc.constantFrom("/healthz", "/readyz", "/metrics", "/debug/syncz", "/debug/config_dump", "/", "//", "/debug/../readyz", "*"),
  fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)),
  token.map((t) => `/${encodeURIComponent(t)}`),
);
const query = fc.oneof(
  fc.constant(""),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc.constantFrom("?proxyID=", "?proxyID=%", "?proxyID=%ZZ", `?proxyID=${"a".repeat(5_000)}`, "?proxyID=sidecar~1~a.b~b.svc.cluster.local&proxyID=x"),
);
const request = fc.oneof(
  fc
    .record({
      method: fc.oneof({ weight: 4, arbitrary: fc.constant("GET") }, fc.constantFrom("POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "FOO")),
      path,
      query,
      headers: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), token), { maxLength: 8 }),
      body: fc.string({ maxLength: 200 }),
    })
    .map((r) => {
      const h = r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
      return `${r.method} ${r.path}${r.query} HTTP/1.1\r\nHost: x\r\n${h}Content-Length: ${Buffer.byteLength(r.body)}\r\nConnection: close\r\n\r\n${r.body}`;
    }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom(
    "GET /healthz HTTP/1.1\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "\r\n\r\n",
    `GET /${"x".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    "GET /readyz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
  ),
);

describe("fuzz: HTTP health and debug endpoints", () => {
  it("300 random and malformed requests, then a good client is served", async () => {
    for (const r of fc.sample(request, { seed: 1919, numRuns: 300 })) {
      const status = await raw(r);
      // Whatever the request: an HTTP answer or a closed connection, never a 5xx from our handlers.
      if (status) expect(status, JSON.stringify(r.slice(0, 120))).toMatch(/^HTTP\/1\.1 [1-4]\d\d /);
    }
    const health = await fetch(`${tel.health.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${tel.health.url}/readyz`);
    expect(ready.status).toBe(200);
    const syncz = await fetch(`${tel.health.url}/debug/syncz`);
    expect(syncz.status).toBe(200);
    expect(await syncz.json()).toBeDefined();
  }, 120_000);
});
