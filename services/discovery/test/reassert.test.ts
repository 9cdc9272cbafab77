import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Publisher } from "@isthmus/bus";
import { buildEvent, serviceStateV1 } from "@isthmus/events";
import { NatsServer } from "@isthmus/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscoveryHarness } from "./harness.js";
import { k8s } from "./objects.js";

// Issue 19: discovery never re-asserted its sources' truth over a foreign write to its
// subjects; a service state over NATS's max payload was never published while the cluster
// stayed Synced.
let h: DiscoveryHarness;
let dir: string;
beforeEach(() => {
  h = new DiscoveryHarness();
  dir = mkdtempSync(join(tmpdir(), "reassert-"));
});
afterEach(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const docs = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join("\n---\n");

describe("discovery re-asserts its sources", () => {
  it("undoes a foreign write to a service's subject, and a foreign state for a service the cluster does not have", async () => {
    writeFileSync(join(dir, "a.yaml"), docs([k8s.service("a"), k8s.slice("a", "a", "default", [{ ip: "10.0.0.1" }])]));
    await h.manifestCluster("local", dir);
    await h.start({ resyncMs: 300 });
    await h.until(async () => (await h.state("local/default/a"))?.endpoints[0]?.address === "10.0.0.1", 10_000, "a");
    const forged = (name: string, ip: string) =>
      buildEvent(
        serviceStateV1,
        h.mesh,
        {
          cluster: "local",
          namespace: "default",
          name,
          hostname: `${name}.default.svc.cluster.local`,
          ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
          endpoints: [
            {
              address: ip,
              ports: { grpc: 5000 },
              ready: true,
              serving: true,
              terminating: false,
              cluster: "local",
              network: "",
              locality: { region: "", zone: "", subzone: "" },
              labels: {},
            },
          ],
          stale: false,
        },
        { source: "intruder" },
      );
    const pub = new Publisher(h.bus.js);
    for (const f of [forged("a", "6.6.6.6"), forged("ghost", "6.6.6.7")]) await pub.publish(f.subject, f.event);
    await h.until(async () => (await h.state("local/default/a"))?.endpoints[0]?.address === "10.0.0.1", 10_000, "a corrected");
    await h.until(async () => !(await h.states()).has("local/default/ghost"), 10_000, "ghost removed");
  });

  it("refuses a service state over NATS's max payload with a reason; the cluster reads Degraded, then Synced once it fits", async () => {
    const nats = await NatsServer.start({ config: "max_payload: 65536" });
    try {
      const ports = Array.from({ length: 2_000 }, (_, i) => ({ name: `p${i}`, port: 1_000 + i }));
      const huge = docs([k8s.service("huge", "default", ports), k8s.slice("huge", "huge", "default", [{ ip: "10.0.0.2" }])]);
      writeFileSync(join(dir, "huge.yaml"), huge);
      writeFileSync(join(dir, "small.yaml"), docs([k8s.service("small"), k8s.slice("small", "small", "default", [{ ip: "10.0.0.3" }])]));
      const warnings: Array<{ object?: string; reason?: string }> = [];
      await h.manifestCluster("local", dir);
      await h.start({ servers: nats.url, log: { debug() {}, info() {}, error() {}, warn: (o: object) => void warnings.push(o) } });
      await h.until(async () => (await h.states()).has("local/default/small"), 10_000, "small");
      await h.until(async () => (await h.clusterStatus("local"))?.state === "Degraded", 10_000, "Degraded");
      expect((await h.clusterStatus("local"))?.lastError).toMatch(/default\/huge: service state of \d+ bytes is over the NATS max payload of 65536 bytes/);
      expect(warnings.find((w) => w.object === "Service default/huge")?.reason).toMatch(/over the NATS max payload/);
      expect((await h.states()).has("local/default/huge")).toBe(false);
      writeFileSync(join(dir, "huge.yaml"), docs([k8s.service("huge"), k8s.slice("huge", "huge", "default", [{ ip: "10.0.0.2" }])]));
      await h.until(async () => (await h.states()).has("local/default/huge"), 10_000, "huge, now small enough");
      await h.until(async () => (await h.clusterStatus("local"))?.state === "Synced", 10_000, "Synced again");
    } finally {
      await h.stop();
      await nats.dispose();
    }
  });
});
