import { request } from "node:http";
import { Bus, type NatsUser, natsAuthorization, Publisher, provisionMeshStreams, SERVICE_USERS } from "@isthmus/bus";
import { buildEvent, buildTombstone, certificateIssuedV1, configResourceV1 } from "@isthmus/events";
import { NatsServer, uniqueMeshId, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entity, HistoryEntry, Snapshot, Update } from "../src/domain/wire.js";
import { type RunningConsole, startConsole } from "../src/service.js";
import { cluster, proxy, service, virtualService } from "./fixtures.js";

// The console's backend through its HTTP surface, on a NATS with per-service users where the
// console has only its read-only one.
const mesh = uniqueMeshId("console");
const users: Array<NatsUser & { password: string }> = SERVICE_USERS.map((user) => ({ user, password: `pw-${user}-${Math.random().toString(36).slice(2)}` }));
const pw = (user: string) => (users.find((u) => u.user === user) as { password: string }).password;
let nats: NatsServer;
let admin: Bus;
let pub: Publisher;
let c: RunningConsole;
const TOKEN = "a-login-token-of-the-test";

beforeAll(async () => {
  nats = await NatsServer.start({ config: natsAuthorization(users, mesh) });
  admin = await Bus.connect({ servers: nats.url, user: "isthmus-cli", password: pw("isthmus-cli"), waitOnFirstConnect: false });
  await provisionMeshStreams(admin.jsm, mesh);
  pub = new Publisher(admin.js);
  for (const b of [
    cluster(mesh, "cluster-1", "managed", "network1"),
    service(mesh, "cluster-1", "network1", [{ ip: "10.0.0.1", version: "v1" }]),
    proxy(mesh, "10.0.0.1"),
    virtualService(mesh, [100, 0]),
  ])
    await pub.publish(b.subject, b.event);
  c = await startConsole({
    mesh,
    host: "127.0.0.1",
    port: 0,
    bus: { servers: nats.url, user: "console", password: pw("console"), waitOnFirstConnect: false },
    log: () => {},
  });
  await c.caughtUp;
});

afterAll(async () => {
  await c?.stop();
  await admin?.close();
  await nats?.dispose();
});

/** Everything the browser could read, as text. */
const received: string[] = [];
async function get(path: string, headers: Record<string, string> = {}, base = c.url) {
  const r = await fetch(new URL(path, base), { headers, redirect: "manual" });
  const text = await r.text();
  received.push(text);
  return { status: r.status, text, headers: r.headers };
}

/** Reads the SSE stream until `until` says enough. */
async function sse(
  until: (updates: Update[], snapshot: Snapshot | undefined) => boolean,
  base = c.url,
): Promise<{ snapshot: Snapshot | undefined; updates: Update[] }> {
  const ac = new AbortController();
  const r = await fetch(new URL("./api/stream", base), { signal: ac.signal });
  expect(r.headers.get("content-type")).toBe("text/event-stream");
  const reader = (r.body as ReadableStream<Uint8Array>).getReader();
  let buf = "";
  let snapshot: Snapshot | undefined;
  const updates: Update[] = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    received.push(buf);
    let i = buf.indexOf("\n\n");
    while (i >= 0) {
      const msg = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(msg)?.[1];
      const data = /^data: (.*)$/m.exec(msg)?.[1];
      if (event === "snapshot" && data) snapshot = JSON.parse(data) as Snapshot;
      if (event === "updates" && data) updates.push(...(JSON.parse(data) as Update[]));
      i = buf.indexOf("\n\n");
    }
    if (until(updates, snapshot)) break;
  }
  ac.abort();
  return { snapshot, updates };
}

const services = (es: Entity[]) => es.filter((e): e is Extract<Entity, { kind: "service" }> => e.kind === "service");

describe("console backend", () => {
  it("serves the mesh's state as a snapshot, then streams a change over SSE", async () => {
    const snap = JSON.parse((await get("./api/snapshot")).text) as Snapshot;
    expect(snap.caughtUp).toBe(true);
    expect(snap.writing).toBe(false);
    expect(services(snap.entities).map((s) => [s.cluster, s.name, s.counts.ready])).toEqual([["cluster-1", "helloworld", 1]]);
    expect(snap.entities.find((e) => e.kind === "proxy")).toMatchObject({ sync: { CDS: { state: "SYNCED" } } });

    const scaled = service(mesh, "cluster-1", "network1", [
      { ip: "10.0.0.1", version: "v1" },
      { ip: "10.0.0.2", version: "v1" },
    ]);
    const got = sse((us, s) => {
      if (s && us.length === 0 && !(s as Snapshot & { published?: boolean }).published) {
        (s as Snapshot & { published?: boolean }).published = true;
        void pub.publish(scaled.subject, scaled.event);
      }
      return us.some((u) => u.op === "put" && u.entity.kind === "service" && u.entity.counts.ready === 2);
    });
    const { snapshot, updates } = await got;
    expect(snapshot?.mesh).toBe(mesh);
    expect(updates.find((u) => u.op === "put")).toMatchObject({ entity: { kind: "service", counts: { ready: 2, notReady: 0, terminating: 0 } } });
    expect(updates.some((u) => u.op === "feed" && u.event.subject === scaled.subject && u.event.key === scaled.subject)).toBe(true);
  });

  it("gives a config resource's history from the event log: who, when, each version's spec, the delete", async () => {
    const v2 = virtualService(mesh, [80, 20]);
    await pub.publish(v2.subject, { ...v2.event, source: "alice@isthmus-cli" });
    const gone = buildTombstone(configResourceV1, mesh, { kind: "VirtualService", namespace: "default", name: "helloworld" }, { source: "bob@isthmus-cli" });
    await pub.publish(gone.subject, gone.event);
    const h = JSON.parse((await get(`./api/history?subject=${encodeURIComponent(v2.subject)}`)).text) as HistoryEntry[];
    expect(h.map((e) => [e.source, e.deleted])).toEqual([
      ["isthmus-cli", false],
      ["alice@isthmus-cli", false],
      ["bob@isthmus-cli", true],
    ]);
    expect(h[1]?.spec).toMatchObject({ http: [{ route: [{ weight: 80 }, { weight: 20 }] }] });
    expect(h.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true);
    await waitFor(() => !c.model.get(v2.subject), 5_000);
    // Only config subjects of its mesh: the console is no generic reader of streams.
    const other = await get(`./api/history?subject=${encodeURIComponent(`mesh.${mesh}.discovery.service.x.y.z`)}`);
    expect(other.status).toBe(400);
    expect(other.text).toMatch(/not a config resource subject/);
    const garbage = await get(`./api/history?subject=${encodeURIComponent("not a subject")}`);
    expect(garbage.status).toBe(400);
    expect(garbage.text).toMatch(/not an Isthmus subject/);
  });

  it("is read-only: writes are refused with a message, CONSOLE_WRITE is refused at start, not ignored", async () => {
    const r = await fetch(new URL("./api/config", c.url), { method: "POST", body: "kind: VirtualService" });
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/read-only: POST refused.*isthmus apply/);
    await expect(
      startConsole({ mesh, host: "127.0.0.1", port: 0, write: true, bus: { servers: nats.url, user: "console", password: pw("console") } }),
    ).rejects.toThrow(/CONSOLE_WRITE: writing through the console is not available yet/);
  });

  it("answers only loopback host names without a token, and sends security headers", async () => {
    const url = new URL(c.url);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: "/api/snapshot", headers: { host: "attacker.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on("error", reject)
        .end();
    });
    expect(status).toBe(421);
    const page = await get("./");
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script type="importmap">');
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect((await get("./app/ui/main.js")).status).toBe(200);
    expect((await get("./vendor/preact/dist/preact.mjs")).status).toBe(200);
    expect((await get("./app/../package.json")).status).toBe(404);
    expect((await get("./app/adapters/http.js")).status).toBe(404);
  });

  it("with a login token: nothing without signing in, a session cookie after, and it listens beyond loopback only with one", async () => {
    await expect(startConsole({ mesh, host: "0.0.0.0", port: 0, bus: { servers: nats.url, user: "console", password: pw("console") } })).rejects.toThrow(
      /without a login token/,
    );
    const t = await startConsole({
      mesh,
      host: "127.0.0.1",
      port: 0,
      token: TOKEN,
      bus: { servers: nats.url, user: "console", password: pw("console") },
      log: () => {},
    });
    try {
      expect((await get("./api/snapshot", {}, t.url)).status).toBe(401);
      expect((await get("./", {}, t.url)).headers.get("location")).toBe("./login");
      const bad = await fetch(new URL("./login", t.url), {
        method: "POST",
        body: "token=wrong",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        redirect: "manual",
      });
      expect(bad.status).toBe(401);
      const ok = await fetch(new URL("./login", t.url), {
        method: "POST",
        body: `token=${TOKEN}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        redirect: "manual",
      });
      expect(ok.status).toBe(303);
      const cookie = ok.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
      expect(cookie).not.toContain(TOKEN);
      expect((await get("./api/snapshot", { cookie: cookie.split(";")[0] as string }, t.url)).status).toBe(200);
      expect((await get("./api/snapshot", { authorization: `Bearer ${TOKEN}` }, t.url)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it("never sends a mesh secret to the browser: no NATS password, no private key", async () => {
    const cert = buildEvent(
      certificateIssuedV1,
      mesh,
      {
        serial: "0abc",
        spiffeId: "spiffe://cluster.local/ns/default/sa/sleep",
        notBefore: new Date().toISOString(),
        notAfter: new Date(Date.now() + 3600_000).toISOString(),
        issuer: "i",
        requester: "r",
      },
      { source: "cert-authority" },
    );
    await pub.publish(cert.subject, cert.event);
    await waitFor(() => c.model.get(cert.subject) !== undefined, 5_000);
    await get("./api/snapshot");
    await sse((_updates, s) => s !== undefined);
    const all = received.join("\n");
    expect(all).toContain("spiffe://cluster.local/ns/default/sa/sleep");
    for (const u of users) expect(all).not.toContain(u.password);
    expect(all).not.toMatch(/PRIVATE KEY/);
    expect(all).not.toContain(TOKEN);
  });
});
