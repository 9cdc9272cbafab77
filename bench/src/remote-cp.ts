import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Bus, Publisher, provisionRemoteControlPlane } from "@isthmus/bus";
import { type RunningConfigPush, startConfigPush } from "@isthmus/config-push";
import { startLeafTopology, uniqueMeshId, WanLink } from "@isthmus/testing";
import { outboundCluster, TYPE } from "@isthmus/xds";
import { type Figures, percentile, report, round } from "./report.js";
import { benchService } from "./xds-services.js";

const N = Number(process.env.BENCH_RCP_PROXIES ?? 500);
const S = Number(process.env.BENCH_RCP_SERVICES ?? 50);
const RTT_MS = 50;
const BYTES_PER_S = 1_250_000; // 10 Mbit/s

/** N proxies (a child process of raw delta ADS streams, one connection each, as sidecars have). */
async function proxies(address: string, clusters: string[]): Promise<{ stop(): Promise<void> }> {
  const load = fork(fileURLToPath(new URL("./xds-load.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise<void>((resolve) => {
    load.on("message", (msg: { initialDone?: boolean }) => msg.initialDone && resolve());
    load.send({ address, n: N, clusters, mode: "delta", connections: N });
  });
  return {
    async stop() {
      load.send({ stop: true });
      await new Promise((r) => load.once("exit", r));
    },
  };
}

/** Publish one endpoint change and time the ACKs of every proxy of `cp`; WAN bytes moved meanwhile. */
async function change(cp: RunningConfigPush, publish: () => Promise<void>, wanBytes: () => number): Promise<{ lat: number[]; bytes: number }> {
  const view = ([...cp.ads.delta][0]?.cache ?? cp.cache) as RunningConfigPush["cache"];
  const v0 = view.version(TYPE.endpoint);
  const acked = new Map<string, number>();
  const prev = cp.ads.onStatus;
  let target = "";
  const t0 = performance.now();
  cp.ads.onStatus = (p, connected) => {
    prev(p, connected);
    const st = p.types.get(TYPE.endpoint);
    if (target && st?.acked === target && !acked.has(p.id)) acked.set(p.id, performance.now() - t0);
  };
  const stopWatch = view.onChange(() => {
    target = view.version(TYPE.endpoint);
  });
  const b0 = wanBytes();
  await publish();
  const deadline = Date.now() + 60_000;
  while (acked.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 300)); // the flow's trailing acks and flow control
  cp.ads.onStatus = prev;
  stopWatch();
  if (view.version(TYPE.endpoint) === v0) throw new Error("the change never reached config-push");
  return { lat: [...acked.values()].sort((a, b) => a - b), bytes: wanBytes() - b0 };
}

/**
 * bench/remote-cp: N proxies in a remote cluster behind an emulated WAN (50 ms RTT,
 * 10 Mbit/s). (a) direct: they connect across the WAN to the hub's config-push; (b) remote
 * control plane: they connect to a config-push on the cluster's NATS leaf node, and only the
 * leaf's connection crosses the WAN. Then the WAN is cut: a change in the remote cluster
 * still reaches its proxies; on heal the hub catches up.
 */
export async function benchRemoteCp(): Promise<void> {
  const figures: Figures = { proxies: N, services: S, wan_rtt_ms: RTT_MS, wan_bytes_per_s: BYTES_PER_S };
  const mesh = uniqueMeshId("benchrcp");
  const topo = await startLeafTopology({ rttMs: RTT_MS, bytesPerSecond: BYTES_PER_S, leafDomain: "leaf-r" });
  const { hub, leaf, wan: leafWan } = topo;
  const hubBus = await Bus.connect({ servers: hub.url, waitOnFirstConnect: false });
  const leafBus = await Bus.connect({ servers: leaf.url, waitOnFirstConnect: false });
  await provisionRemoteControlPlane({ hub: hubBus.jsm, leaf: leafBus.jsm, mesh, hubDomain: topo.hubDomain, leafDomain: topo.leafDomain });
  const hubPub = new Publisher(hubBus.js);
  const leafPub = new Publisher(leafBus.js);
  for (let i = 0; i < S; i++) {
    const e = benchService(mesh, "cluster-1", i, 0);
    await hubPub.publish(e.subject, e.event);
  }
  const local = benchService(mesh, "cluster-r", S, 0);
  await leafPub.publish(local.subject, local.event);
  const cp = async (url: string, remoteFor?: string[]) => {
    const c = await startConfigPush({
      mesh,
      bus: { servers: url, waitOnFirstConnect: false },
      host: "127.0.0.1",
      port: 0,
      debounceMs: 100,
      ...(remoteFor ? { remoteFor } : {}),
    });
    await c.ready;
    return c;
  };
  const hubCp = await cp(hub.url);
  const remoteCp = await cp(leaf.url, ["cluster-r"]);
  // Wait until the leaf's mirror holds the hub's services.
  for (let i = 0; i < 300 && remoteCp.cache.get(TYPE.endpoint).length < S + 1; i++) await new Promise((r) => setTimeout(r, 100));
  const clusters = Array.from({ length: S + 1 }, (_, i) => outboundCluster(8080, `svc-${i}.bench.svc.cluster.local`));

  // (a) direct: every proxy's xDS connection crosses the WAN to the hub.
  const xdsWan = await WanLink.start({ host: "127.0.0.1", port: hubCp.port }, { rttMs: RTT_MS, bytesPerSecond: BYTES_PER_S });
  const direct = await proxies(`127.0.0.1:${xdsWan.port}`, clusters);
  const wanAll = () => xdsWan.bytes + leafWan.bytes;
  const leafConnections0 = leafWan.connections;
  let gen = 1;
  const a = await change(
    hubCp,
    async () => {
      const e = benchService(mesh, "cluster-1", 7, gen++);
      await hubPub.publish(e.subject, e.event);
    },
    wanAll,
  );
  figures.wan_connections_direct = xdsWan.connections + (leafWan.connections - leafConnections0);
  figures.wan_bytes_per_change_direct = a.bytes;
  figures.push_p50_ms_direct = round(percentile(a.lat, 50));
  figures.push_p99_ms_direct = round(percentile(a.lat, 99));
  figures.acked_direct = a.lat.length;
  await direct.stop();
  await xdsWan.close();

  // (b) remote control plane: the proxies connect locally; the change comes over the leaf's one connection.
  const remote = await proxies(`127.0.0.1:${remoteCp.port}`, clusters);
  const b = await change(
    remoteCp,
    async () => {
      const e = benchService(mesh, "cluster-1", 7, gen++);
      await hubPub.publish(e.subject, e.event);
    },
    () => leafWan.bytes,
  );
  figures.wan_connections_remote = leafWan.connections;
  figures.wan_bytes_per_change_remote = b.bytes;
  figures.push_p50_ms_remote = round(percentile(b.lat, 50));
  figures.push_p99_ms_remote = round(percentile(b.lat, 99));
  figures.acked_remote = b.lat.length;

  // The WAN is cut: a change in the remote cluster still reaches its proxies ...
  leafWan.cut();
  const cut = await change(
    remoteCp,
    async () => {
      const e = benchService(mesh, "cluster-r", S, gen++);
      await leafPub.publish(e.subject, e.event);
    },
    () => leafWan.bytes,
  );
  figures.cut_local_change_p99_ms = round(percentile(cut.lat, 99));
  figures.cut_acked = cut.lat.length;
  // ... and on heal the hub converges to it.
  const want = remoteCp.cache.getOne(TYPE.endpoint, outboundCluster(8080, `svc-${S}.bench.svc.cluster.local`))?.version;
  const tHeal = performance.now();
  leafWan.heal();
  while (hubCp.cache.getOne(TYPE.endpoint, outboundCluster(8080, `svc-${S}.bench.svc.cluster.local`))?.version !== want) {
    if (performance.now() - tHeal > 120_000) throw new Error("the hub never converged after heal");
    await new Promise((r) => setTimeout(r, 20));
  }
  figures.heal_converge_ms = round(performance.now() - tHeal, 0);
  await remote.stop();

  report("remote-cp", figures, { wan_connections_remote: "one whatever N", wan_bytes_per_change_remote: "vs direct" });
  await hubCp.stop();
  await remoteCp.stop();
  await hubBus.close();
  await leafBus.close();
  await topo.dispose();
}
