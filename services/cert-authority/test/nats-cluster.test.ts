import { streamName } from "@isthmus/events";
import { NatsCluster, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshCa, makeRoot, startMeshCa, workload } from "./harness.js";

// Three real nats-server processes, each with its own store; the CA's streams are R3.
let cluster: NatsCluster;
let m: MeshCa;
beforeAll(async () => {
  cluster = await NatsCluster.start({ size: 3 });
  m = await startMeshCa(await makeRoot(), { servers: cluster.urls });
});
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) await n.start();
  await m?.stop();
  await cluster?.dispose();
});

const ask = () =>
  m.client.create({ csr: workload().csrPem, token: m.api.issueServiceAccountToken({ namespace: "a", serviceAccount: "b" }), clusterId: "cluster-1" });

// Kill-the-leader faults on three local nats-servers: flaky when the whole suite loads the machine (CI), so run on demand: ISTHMUS_CLUSTER_FAULTS=1.
describe.skipIf(process.env.CI === "true" && !process.env.ISTHMUS_CLUSTER_FAULTS)("cert-authority on a 3-node NATS cluster", () => {
  it("issues with one node down; without quorum turns unready (issuance needs only its ledger); ready again when a node is back", async () => {
    const bus = m.ca.bus;
    if (!bus) throw new Error("the CA has no bus");
    const stream = streamName(m.mesh, "ca");
    expect((await bus.jsm.streams.info(stream)).config.num_replicas).toBe(3);
    expect(await ask()).toHaveLength(3);
    expect(await m.ca.ready()).toBe(true);

    const leader = cluster.node((await bus.jsm.streams.info(stream)).cluster?.leader as string);
    await leader.kill();
    expect(await ask()).toHaveLength(3);
    await waitFor(() => m.ca.ready(), 20_000, "ready with one node down");

    const second = cluster.nodes.find((n) => n.running && n.url !== bus.nc.getServer());
    if (!second) throw new Error("no second node to kill");
    await second.kill();
    await waitFor(async () => !(await m.ca.ready()), 45_000, "unready without quorum");
    // The ledger is Postgres: workloads still get certificates; the events wait in the outbox.
    expect(await ask()).toHaveLength(3);

    const back = Date.now();
    await leader.start();
    await waitFor(() => m.ca.ready(), 60_000, "ready again after one node came back");
    console.log(
      `cert-authority on R3: issued with one node down and without quorum; unready without quorum; ready ${Date.now() - back} ms after one node came back`,
    );
    expect(await ask()).toHaveLength(3);
    await second.start();
    await cluster.waitHealthy();
  }, 150_000);
});
