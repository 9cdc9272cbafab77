import { buildEvent, configResourceV1, streamName } from "@isthmus/events";
import { NatsCluster, testNatsUrl, uniqueMeshId, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, clusterReplicas, meshStreamSpecs, Publisher, PublishUnavailableError, provisionMeshStreams } from "../src/index.js";

// A real 3-node nats-server cluster, each node with its own store; nodes are SIGKILLed.
let cluster: NatsCluster;
let bus: Bus;
beforeAll(async () => {
  cluster = await NatsCluster.start({ size: 3 });
  bus = await Bus.connect({ servers: cluster.urls, maxReconnectDelayMs: 500 });
});
afterAll(async () => {
  await bus?.close();
  await cluster?.dispose();
});

const event = (mesh: string, name: string, position: number) =>
  buildEvent(
    configResourceV1,
    mesh,
    { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "ns", name, labels: {}, spec: { position } },
    { source: "cluster-test" },
  );

async function leaderOf(stream: string): Promise<string> {
  const info = await bus.jsm.streams.info(stream);
  const leader = info.cluster?.leader;
  if (!leader) throw new Error(`${stream} has no leader`);
  return leader;
}

describe("streams on a 3-node cluster", () => {
  it("sizes replicas from the cluster the connection landed on", async () => {
    expect(bus.streamReplicas).toBe(3);
    const single = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    expect(single.streamReplicas).toBe(1);
    await single.close();
    expect(clusterReplicas({ cluster: "c", connect_urls: ["a:1", "b:1"] })).toBe(2);
    expect(clusterReplicas({ cluster: "c", connect_urls: ["a:1", "b:1", "c:1", "d:1", "e:1"] })).toBe(3);
    expect(clusterReplicas({})).toBe(1);
  });

  it("moves existing R1 streams to R3 in place, keeping their messages", async () => {
    const mesh = uniqueMeshId("grow");
    await provisionMeshStreams(bus.jsm, mesh, { replicas: 1 });
    const pub = new Publisher(bus.js);
    for (let i = 0; i < 50; i++) {
      const e = event(mesh, `vs-${i}`, 0);
      await pub.publish(e.subject, e.event);
    }
    const results = await provisionMeshStreams(bus.jsm, mesh, { replicas: bus.streamReplicas });
    expect(results.map((r) => r.action)).toEqual(results.map(() => "updated"));
    expect(results.every((r) => r.changed.join() === "replicas")).toBe(true);
    const config = streamName(mesh, "config");
    await waitFor(
      async () => {
        const info = await bus.jsm.streams.info(config);
        return info.config.num_replicas === 3 && (info.cluster?.replicas ?? []).filter((r) => r.current).length === 2;
      },
      30_000,
      "CONFIG stream at three current replicas",
    );
    expect((await bus.jsm.streams.info(config)).state.messages).toBe(50);
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  });

  it("keeps publishing through a SIGKILL of the stream leader: every event once", async () => {
    const mesh = uniqueMeshId("leaderkill");
    await provisionMeshStreams(bus.jsm, mesh, { replicas: bus.streamReplicas, historyPerSubject: -1 });
    const config = streamName(mesh, "config");
    const pub = new Publisher(bus.js);
    const TOTAL = 600;
    const killed = await leaderOf(config);
    let killedAt = 0;
    let slowest = 0;
    for (let i = 0; i < TOTAL; i++) {
      if (i === 200) {
        killedAt = Date.now();
        await cluster.node(killed).kill();
      }
      const e = event(mesh, `vs-${i % 20}`, i);
      const t = Date.now();
      await pub.publish(e.subject, e.event);
      slowest = Math.max(slowest, Date.now() - t);
    }
    const newLeader = await leaderOf(config);
    // The same message id again: the duplicate window keeps one copy.
    const again = event(mesh, "vs-0", 0);
    const first = await pub.publish(again.subject, again.event);
    const retry = await pub.publish(again.subject, again.event);
    expect(retry.duplicate).toBe(true);
    expect(retry.seq).toBe(first.seq);
    const info = await bus.jsm.streams.info(config);
    expect(newLeader).not.toBe(killed);
    expect(info.state.messages).toBe(TOTAL + 1);
    console.log(
      `leader SIGKILL: ${TOTAL} events, 1 kill, lost 0, duplicated 0, longest publish (leader election) ${slowest} ms, ${Date.now() - killedAt} ms from kill to end`,
    );
    await cluster.node(killed).start();
    await cluster.waitHealthy();
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  }, 90_000);

  it("without quorum a publish fails naming the reason, and succeeds once a node is back", async () => {
    const mesh = uniqueMeshId("quorum");
    await provisionMeshStreams(bus.jsm, mesh, { replicas: bus.streamReplicas });
    const config = streamName(mesh, "config");
    const down = cluster.nodes.filter((n) => n.url !== bus.nc.getServer()).slice(0, 2);
    for (const n of down) await n.kill();
    const pub = new Publisher(bus.js, { retryForMs: 3_000 });
    const e = event(mesh, "vs", 1);
    const failure = await pub.publish(e.subject, e.event, { timeoutMs: 1_000 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PublishUnavailableError);
    expect((failure as Error).message).toMatch(new RegExp(`publish to ${e.subject.replace(/\./g, "\\.")} .*not acknowledged after \\d+ attempts`));
    expect((failure as PublishUnavailableError).reason).toMatch(/no responders|no acknowledgement/);

    const back = Date.now();
    await down[0]?.start();
    const ack = await new Publisher(bus.js, { retryForMs: 60_000 }).publish(e.subject, e.event);
    expect(ack.stream).toBe(config);
    console.log(`no quorum: publish refused (${(failure as Error).message}); accepted ${Date.now() - back} ms after one node came back`);
    await down[1]?.start();
    await cluster.waitHealthy();
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  }, 120_000);
});
