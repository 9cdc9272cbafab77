import * as grpc from "@grpc/grpc-js";
import { eventSubject, proxyStatusV1 } from "@isthmus/events";
import { HealthServer } from "@isthmus/telemetry";
import { waitFor } from "@isthmus/testing";
import { TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type RawStream, type RawResponse as Response, rawAds } from "./raw-ads.js";
import { type Testbed, testbed } from "./testbed.js";

// Issue 19's xDS findings, each driven by a raw ADS client the way a careless or hostile one
// would, with a real gRPC xDS client checked to be served throughout.
const GOOD = "sidecar~127.0.0.1~good.default~default.svc.cluster.local";
const HOST = "limited.default.svc.cluster.local";
const CLUSTER = `outbound|5000||${HOST}`;
const QUEUE_LIMIT = 128 * 1024;
let tb: Testbed;
let debug: HealthServer;
const servers: Array<{ stop(): void }> = [];
let good: InstanceType<typeof GreeterClient>;
let ports: number[] = [];
let v1Port = 0;

const raw = (mode: "sotw" | "delta" = "sotw", o: { read?: boolean } = {}) => rawAds(`127.0.0.1:${tb.cp.port}`, mode, o);
const proxy = (id: string) => [...tb.cp.ads.proxies.values()].find((p) => p.id === id);

/** Move the service to a new endpoint set (an EDS change for everyone subscribed). */
async function changeEndpoints(): Promise<void> {
  ports = [...ports, 40_000 + ports.length];
  await tb.publishService("limited", [{ port: v1Port }, ...ports.map((port) => ({ port, address: "127.0.0.2" }))]);
  await waitFor(() => proxy(GOOD)?.types.get(TYPE.endpoint)?.acked === tb.cp.cache.version(TYPE.endpoint), 10_000, "the good client ACKs the change");
}

beforeAll(async () => {
  tb = await testbed("xdslimits", GOOD, {
    config: { maxConcurrentPushes: 2, ackTimeoutMs: 300, statusIntervalMs: 50, xdsLimits: { maxQueuedBytesPerStream: QUEUE_LIMIT } },
  });
  const v1 = await helloworldServer("v1", "l-v1");
  servers.push(v1);
  v1Port = v1.port;
  await tb.publishService("limited", [{ port: v1.port }]);
  good = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
  await waitFor(async () => (await sayHello(good).catch(() => "")).includes("v1"), 20_000, "the good client is served");
  debug = new HealthServer();
  for (const [path, handler] of Object.entries(tb.cp.debug)) debug.addRoute(path, handler);
  await debug.listen();
});
afterAll(async () => {
  good?.close();
  for (const s of servers) s.stop();
  await debug?.close();
  await tb.dispose();
});

describe("xDS limits (issue 19)", () => {
  it("refuses a node id whose status subject would pass NATS's control-line limit, naming the limit", async () => {
    const s = raw();
    s.call.write({ node: { id: `sidecar~${".".repeat(1_500)}` }, type_url: TYPE.cluster });
    const end = await s.end;
    expect(end.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/node id is \d+ bytes once encoded as a subject token; at most 1024/);
    s.close();
    expect(await sayHello(good)).toContain("v1");
  });

  it("refuses resource names over the cap, in SotW and delta", async () => {
    const long = "n".repeat(5_000);
    const sotw = raw();
    sotw.call.write({ node: { id: "sidecar~127.0.0.9~long.default~default.svc.cluster.local" }, type_url: TYPE.endpoint, resource_names: [long] });
    const delta = raw("delta");
    delta.call.write({ node: { id: "sidecar~127.0.0.9~long-d.default~default.svc.cluster.local" }, type_url: TYPE.endpoint, resource_names_subscribe: [long] });
    for (const s of [sotw, delta]) {
      const end = await s.end;
      expect(end.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(end.details).toMatch(/a resource name of 5000 bytes .*at most 1024 are accepted/);
      s.close();
    }
    expect(await sayHello(good)).toContain("v1");
  });

  it("keeps a 4 MB NACK error shortened, and /debug/syncz stays small and quick", async () => {
    const id = "sidecar~127.0.0.9~nack-big.default~default.svc.cluster.local";
    const s = raw();
    s.call.write({ node: { id }, type_url: TYPE.cluster });
    await waitFor(() => s.responses.length > 0, 10_000, "CDS response");
    const r = s.responses[0] as Response;
    s.call.write({ type_url: TYPE.cluster, version_info: "", response_nonce: r.nonce, error_detail: { code: 3, message: "x".repeat(4_000_000) } });
    await waitFor(() => Boolean(proxy(id)?.types.get(TYPE.cluster)?.nacked), 10_000, "NACK seen");
    const error = proxy(id)?.types.get(TYPE.cluster)?.error ?? "";
    expect(error.length).toBeLessThan(4_200);
    expect(error).toMatch(/\(3995904 more characters not kept\)$/);
    const page = await (await fetch(`${debug.url}/debug/syncz`)).text();
    expect(page.length).toBeLessThan(64 * 1024);
    expect(page).toContain(id);
    s.close();
  });

  it("a proxy that never ACKs holds a push slot once, then is not pushed again until it answers; the others are served", async () => {
    // Three silent proxies and a push limit of two: before, each change waited for them.
    const silent = ["a", "b", "c"].map((n) => {
      const s = raw();
      s.call.write({ node: { id: `sidecar~127.0.0.9~silent-${n}.default~default.svc.cluster.local` }, type_url: TYPE.endpoint, resource_names: [CLUSTER] });
      return s;
    });
    await waitFor(() => silent.every((s) => s.responses.length === 1), 10_000, "initial EDS to every silent proxy");
    await changeEndpoints(); // pushed to each of them once (two at a time); they never answer
    await waitFor(() => silent.every((s) => s.responses.length === 2), 10_000, "the first change reaches the silent proxies");
    await waitFor(() => tb.cp.ads.queue.stalledCount === 3, 5_000, "silent proxies stalled");
    for (let i = 0; i < 3; i++) await changeEndpoints(); // the good client ACKs each one while they wait
    expect(silent.map((s) => s.responses.length)).toEqual([2, 2, 2]);

    // One answers: it gets the latest state at once, and is pushed again from then on.
    const a = silent[0] as RawStream;
    const last = a.responses[1] as Response;
    a.call.write({ type_url: TYPE.endpoint, version_info: last.version_info, response_nonce: last.nonce, resource_names: [CLUSTER] });
    await waitFor(() => a.responses.length === 3, 10_000, "the answering proxy is pushed what it missed");
    expect(a.responses[2]?.version_info).toBe(tb.cp.cache.version(TYPE.endpoint));
    expect(silent.map((s) => s.responses.length)).toEqual([3, 2, 2]);
    for (const s of silent) s.close();
  });

  it("closes a stream whose client stops reading (and answering) once its unanswered responses pass the cap", async () => {
    const id = "sidecar~127.0.0.9~no-read.default~default.svc.cluster.local";
    // Enough clusters that a full CDS answer is some 30 KB.
    for (let i = 0; i < 60; i++) await tb.publishService(`filler-${i}`, [{ port: 41_000 + i, address: "127.0.0.3" }]);
    await waitFor(() => tb.cp.cache.get(TYPE.cluster).length >= 61, 10_000, "filler clusters");
    const s = raw("sotw", { read: false });
    s.call.write({ node: { id }, type_url: TYPE.cluster });
    await waitFor(() => proxy(id) !== undefined, 10_000, "connected");
    // Alternating subscriptions: each change of names is answered with that subscription's state.
    for (let i = 0; i < 400; i++) s.call.write({ type_url: TYPE.cluster, resource_names: i % 2 ? [] : [`cluster-${i}`] });
    await waitFor(() => proxy(id) === undefined, 20_000, "the server closes the stream");
    s.read();
    const end = await s.end;
    expect(end.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(end.details).toMatch(new RegExp(`at most ${QUEUE_LIMIT} are sent to a client that does not read or answer`));
    s.close();
    expect(await sayHello(good)).toContain("v1");
  });

  it("a second stream reusing a connected proxy's node id does not mark the real one disconnected when it leaves", async () => {
    const id = "sidecar~127.0.0.9~twice.default~default.svc.cluster.local";
    const subject = eventSubject(proxyStatusV1, tb.fx.mesh, { proxyId: id });
    const last = async () =>
      (await tb.fx.bus.jsm.streams.getMessage(`PUSH_${tb.fx.mesh}`, { last_by_subj: subject }).catch(() => null))?.json<{
        data: { connected: boolean };
        id: string;
      }>();
    const real = raw();
    real.call.write({ node: { id }, type_url: TYPE.cluster });
    await waitFor(async () => (await last())?.data.connected === true, 10_000, "connected status");
    const impostor = raw();
    impostor.call.write({ node: { id }, type_url: TYPE.cluster });
    await waitFor(() => tb.cp.ads.connectionsOf(id).size === 2, 10_000, "both streams registered");
    await new Promise((r) => setTimeout(r, 300)); // the impostor's own status batch published
    const before = (await last())?.id;
    impostor.close();
    await waitFor(() => tb.cp.ads.connectionsOf(id).size === 1, 10_000, "impostor gone");
    await waitFor(async () => (await last())?.id !== before, 10_000, "a status published after it left");
    expect((await last())?.data.connected).toBe(true);
    real.close();
    await waitFor(async () => (await last())?.data.connected === false, 10_000, "disconnected once no stream is left");
  });
});
