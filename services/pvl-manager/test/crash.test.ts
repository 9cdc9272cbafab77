import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PvlHarness, seedSpec } from "./harness.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
let h: PvlHarness;
beforeAll(async () => {
  h = new PvlHarness();
  // Provisioning that outlasts every kill, and a flaky API, so kills land in the middle of it.
  await h.start(undefined, { provisionMs: 120_000 });
});
afterAll(() => h.stop());

function startManager(kubeconfig: string): ChildProcess {
  return spawn(process.execPath, ["--conditions=source", "--import", "tsx", main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      MESH_ID: h.mesh,
      CONFIG_KUBECONFIG: kubeconfig,
      DATABASE_URL: h.db.url,
      PVL_PROVIDER: "simulated",
      PVL_SAN_CHECK: "false",
      HEALTH_PORT: "0",
      NATS_URL: "",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "pipe", "ignore"],
  });
}

/** Resolves once the process has started its controller (it prints "ready"). */
function ready(p: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    p.stdout?.on("data", (b: Buffer) => b.toString().includes("ready") && resolve());
    p.once("exit", (code) => reject(new Error(`pvl-manager exited early (${code})`)));
  });
}

describe("pvl-manager killed at random points during provisioning", () => {
  it("converges after 20 kills with no duplicate cloud resources", async () => {
    const kubeconfig = join(tmpdir(), `pvl-${h.mesh}.kubeconfig`);
    writeFileSync(kubeconfig, h.api.kubeconfig());
    const spec = seedSpec();
    spec.ackVpcEndpoint.push({ clusterId: "c-second", vSwitches: [{ vSwitchId: "vsw-second", zoneId: "cn-hangzhou-j" }] });
    await h.apply(spec);
    for (let trial = 0; trial < 20; trial++) {
      await h.cloud.failNext("createEndpoint", "Throttled", trial % 3 === 0 ? 1 : 0);
      const p = startManager(kubeconfig);
      await ready(p);
      // Somewhere inside the reconcile that starts now: creates, status writes, polling.
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      p.kill("SIGKILL");
      await new Promise((r) => p.once("exit", r));
    }
    // The killed processes did get work done (and were cut off in it): cloud operations are in the log.
    const { operations } = await import("../src/adapters/schema.js");
    const { openPvlStore } = await import("../src/index.js");
    const store = await openPvlStore(h.db.url);
    const ops = await store.db.select().from(operations);
    await store.close();
    expect(ops.filter((o) => o.action.startsWith("create")).length).toBeGreaterThan(0);
    await h.cloud.configure({ provisionMs: 200 }); // let it finish now
    const p = startManager(kubeconfig);
    try {
      await h.until(async () => (await h.get())?.status?.status === "Available", 60_000, "Available after the kills");
    } finally {
      p.kill("SIGTERM");
    }
    const live = await h.cloud.allResources();
    expect(live).toHaveLength(7); // 2 api-server services + pilot service + 4 endpoints
    expect(new Set(live.map((r) => `${r.kind}:${r.key}`)).size).toBe(7);
  }, 180_000);
});
