import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PvlStatus, SimulatedCloud } from "@isthmus/pvl-manager";
import { testNatsUrl, uniqueMeshId, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runIsthmus, spawnIsthmus } from "./run-cli.js";

const mesh = uniqueMeshId("pvljourney");
const work = mkdtempSync(join(tmpdir(), "isthmus-pvl-journey-"));
const state = join(work, "state");
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NATS_URL: testNatsUrl(),
  CA_GRPC_PORT: "0",
  XDS_PORT: "0",
  CONSOLE_PORT: "0",
  LOG_LEVEL: "error",
  PVL_SIM_PROVISION_MS: "1000",
};
delete env.DATABASE_URL;
delete env.CONFIG_KUBECONFIG;

let stack: ChildProcess | undefined;
let stackOut = "";
const isthmus = (args: string[]) => runIsthmus([...args, "--mesh", mesh], { env });

/** Seed 004's asmpvlconfig.yaml with the ids `isthmus up` prints for its simulated cloud. */
const seedFile = (ackZone: string) => `apiVersion: istio.alibabacloud.com/v1beta1
kind: ASMPvlConfig
metadata:
  name: default
spec:
  ackVpcEndpoint:
  - clusterId: cluster-1
    vSwitches:
    - vSwitchId: vsw-c1-i
      zoneId: ${ackZone}
  asmVpcEndpoint:
    vSwitches:
    - vSwitchId: vsw-asm-j
      zoneId: cn-hangzhou-i
`;

async function getYaml(): Promise<{ spec?: unknown; status?: Record<string, unknown> } | undefined> {
  const r = await isthmus(["get", "asmpvlconfig", "default", "-o", "yaml"]);
  return r.code === 0 ? parse(r.stdout) : undefined;
}

beforeAll(async () => {
  stack = spawnIsthmus(["up", "--mesh", mesh, "--dir", state, "--health-port", "0", "--no-demo"], env);
  stack.stdout?.on("data", (b) => {
    stackOut += b;
  });
  stack.stderr?.on("data", (b) => {
    stackOut += b;
  });
  await waitFor(() => stackOut.includes("Ctrl-C stops everything."), 150_000, "the local stack up");
}, 180_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill("SIGINT");
    await new Promise((r) => stack?.once("exit", r));
  }
  rmSync(work, { recursive: true, force: true });
});

describe("seed 004 in the local stack (a fresh isthmus up, no config cluster)", () => {
  it("apply -> Available in the seed's shape; a zone mismatch shows its fix and recovers; delete leaves nothing in the simulated cloud", async () => {
    // What to put in the file is printed by `isthmus up`.
    expect(stackOut).toMatch(/pvl-manager\s+ASMPvlConfig from the CONFIG stream/);
    expect(stackOut).toContain("cluster-1 vpc-cluster-1: vSwitches vsw-c1-i (cn-hangzhou-i)");

    const file = join(work, "asmpvlconfig.yaml");
    writeFileSync(file, seedFile("cn-hangzhou-j"));
    const applied = await isthmus(["apply", "-f", file]);
    expect(applied.code, applied.stderr).toBe(0);

    let got: Awaited<ReturnType<typeof getYaml>>;
    await waitFor(
      async () => {
        got = await getYaml();
        return got?.status?.status === "Available";
      },
      120_000,
      "Available",
    );
    const status = got?.status as unknown as Required<PvlStatus>;
    expect(got?.spec).toEqual(parse(seedFile("cn-hangzhou-j")).spec);
    // The seed's status block, key for key: clusters, pilot, status (no conditions, nothing else).
    expect(Object.keys(status).sort()).toEqual(["clusters", "pilot", "status"]);
    expect(status.clusters).toHaveLength(1);
    expect(status.clusters[0]).toMatchObject({
      clusterId: "cluster-1",
      pvlEndpoint: {
        connectionStatus: "Connected",
        status: "Active",
        id: expect.stringMatching(/^ep-/),
        domainName: expect.stringMatching(/^ep-.*\.epsrv-.*\.cn-hangzhou\.privatelink\.aliyuncs\.com$/),
      },
      pvlEndpointService: {
        status: "Active",
        id: expect.stringMatching(/^epsrv-/),
        name: expect.stringMatching(/^com\.aliyuncs\.privatelink\.cn-hangzhou\.epsrv-/),
      },
    });
    expect(Object.keys(status.clusters[0]?.pvlEndpoint ?? {}).sort()).toEqual(["connectionStatus", "domainName", "id", "status"]);
    expect(status.pilot.clusters).toEqual([
      { clusterId: "cluster-1", pvlEndpoint: expect.objectContaining({ connectionStatus: "Connected", status: "Active" }) },
    ]);
    expect(status.pilot.pvlEndpointService).toMatchObject({ status: "Active", id: expect.stringMatching(/^epsrv-/) });

    // A zone mismatch (the ACK side names the cluster's own zone, not the ASM vSwitch's): the condition and its fix.
    writeFileSync(file, seedFile("cn-hangzhou-i"));
    expect((await isthmus(["apply", "-f", file])).code).toBe(0);
    await waitFor(async () => (await getYaml())?.status?.status === "Invalid", 120_000, "Invalid");
    const diag = await isthmus(["pvl", "status"]);
    expect(diag.code, diag.stderr).toBe(0);
    expect(diag.stdout).toContain("ASMPvlConfig default: Invalid");
    expect(diag.stdout).toMatch(/! ZoneMismatch=False \(ZoneMismatch\): .*cn-hangzhou-i/);
    expect(diag.stdout).toContain("fix: Cross-VPC zone matching");

    // Corrected: Available again.
    writeFileSync(file, seedFile("cn-hangzhou-j"));
    expect((await isthmus(["apply", "-f", file])).code).toBe(0);
    await waitFor(async () => (await getYaml())?.status?.status === "Available", 120_000, "Available again");

    // Deleted: the tombstone makes pvl-manager remove everything the object created.
    const deleted = await isthmus(["delete", "asmpvlconfig", "default"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitFor(async () => (await isthmus(["pvl", "status"])).stdout.includes("ASMPvlConfig default: Deleted"), 120_000, "Deleted");

    // The simulated cloud itself (the stack's embedded database, readable once the stack has stopped) holds nothing.
    stack?.kill("SIGINT");
    await new Promise((r) => stack?.once("exit", r));
    const cloud = await SimulatedCloud.open(undefined, join(state, "data", "pvl-sim"));
    try {
      expect(await cloud.allResources()).toEqual([]);
    } finally {
      await cloud.close();
    }
  }, 600_000);
});
