import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { XdsChannelCredentials, XdsServer, XdsServerCredentials } from "@grpc/grpc-js-xds";
import { freePort, waitFor } from "@isthmus/testing";
import { grpcBootstrap, XDS_BOOTSTRAP_OPTION } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_FILES, agentRound } from "../../../cli/src/commands/agent.js";
import { type MeshCa, makeRoot, startMeshCa } from "../../cert-authority/test/harness.js";
import { GreeterClient, greeter, sayHello } from "./helloworld.js";
import { configApplied, type Testbed, testbed } from "./testbed.js";

// Proxyless mTLS as Istio does it: certificates from cert-authority written by `isthmus
// agent`, read by gRPC's file_watcher certificate provider; config-push tells servers to
// require mTLS (PeerAuthentication STRICT) and clients to use it (gRFC A29).
const HOST = "helloworld.default.svc.cluster.local";

let tb: Testbed;
let mesh: MeshCa;
let foreign: MeshCa;
const stops: Array<() => void> = [];

/** A workload's certificate files from a CA, as `isthmus agent` writes them. */
async function provision(ca: MeshCa, sa: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), `mtls-${sa}-`));
  const roots = join(out, "ca-roots.pem");
  writeFileSync(roots, (await ca.ca.bundle()).join(""));
  const token = ca.api.issueServiceAccountToken({ namespace: "default", serviceAccount: sa });
  await agentRound({ caAddress: `localhost:${ca.ca.grpcPort}`, caRoots: roots, out, token, clusterId: "cluster-1", keyAlg: "ec-p256" });
  return out;
}

function bootstrap(node: string, certDir: string, rootsFile?: string): string {
  return grpcBootstrap({ server: `127.0.0.1:${tb.cp.port}`, nodeId: node, certDir, ...(rootsFile ? { rootsFile } : {}) });
}

beforeAll(async () => {
  tb = await testbed("mtls", "sidecar~127.0.0.1~unused.default~default.svc.cluster.local");
  const root = await makeRoot();
  mesh = await startMeshCa(root, { bus: false });
  foreign = await startMeshCa(await makeRoot(), { bus: false });
}, 60_000);
afterAll(async () => {
  for (const s of stops) s();
  await tb.dispose();
  await mesh.stop();
  await foreign.stop();
});

describe("mTLS between proxyless gRPC workloads with certificates from cert-authority", () => {
  it("calls succeed over mTLS with the caller's SPIFFE id; a certificate from another root and plaintext are refused", async () => {
    const serverCerts = await provision(mesh, "helloworld");
    const clientCerts = await provision(mesh, "sleep");
    const foreignCerts = await provision(foreign, "sleep");

    // The server: an xDS-managed gRPC server that serves once config-push gives it its listener.
    const port = await freePort();
    const peers: string[] = [];
    const server = new XdsServer({ [XDS_BOOTSTRAP_OPTION]: bootstrap("sidecar~127.0.0.1~helloworld-v1-0.default~default.svc.cluster.local", serverCerts) });
    server.addService(greeter, {
      SayHello: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<{ message: string }>) => {
        const ctx = call.getAuthContext();
        peers.push(`${ctx.transportSecurityType}:${(ctx.sslPeerCertificate as { subjectaltname?: string } | undefined)?.subjectaltname ?? "-"}`);
        cb(null, { message: "Hello version: v1, instance: helloworld-v1-0" });
      },
    });
    stops.push(() => server.forceShutdown());

    await tb.publishConfig("PeerAuthentication", "default", { mtls: { mode: "STRICT" } });
    await configApplied(tb.cp, "PeerAuthentication", "default");
    await tb.publishService("helloworld", [{ port, serviceAccount: "helloworld", labels: { app: "helloworld", version: "v1" } }]);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, new XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (e) => (e ? reject(e) : resolve())),
    );

    const client = (certDir: string, rootsFile?: string, secure = true) => {
      const c = new GreeterClient(
        `xds:///${HOST}:5000`,
        secure ? new XdsChannelCredentials(grpc.credentials.createInsecure()) : grpc.credentials.createInsecure(),
        { [XDS_BOOTSTRAP_OPTION]: bootstrap(`sidecar~127.0.0.2~sleep-${Math.random()}.default~default.svc.cluster.local`, certDir, rootsFile) },
      );
      stops.push(() => c.close());
      return c;
    };

    // A mesh client: mTLS both ways, the server sees the client's SPIFFE id.
    const good = client(clientCerts);
    await waitFor(async () => (await sayHello(good).catch(() => "")).startsWith("Hello version: v1"), 30_000, "mTLS call");
    for (let i = 0; i < 5; i++) expect(await sayHello(good)).toContain("v1");
    expect(peers.at(-1)).toBe("ssl:URI:spiffe://cluster.local/ns/default/sa/sleep");
    expect(peers.every((p) => p.startsWith("ssl:"))).toBe(true);

    // The client's cluster carries the server's identity: only helloworld's SPIFFE id is accepted.
    const cds = tb.cp.cache.getOne("type.googleapis.com/envoy.config.cluster.v3.Cluster", `outbound|5000||${HOST}`);
    expect(cds?.any.value.toString("latin1")).toContain("spiffe://cluster.local/ns/default/sa/helloworld");

    // A certificate from another root (it trusts our root, so only the server can refuse it).
    const calls = peers.length;
    const stranger = client(foreignCerts, join(clientCerts, AGENT_FILES.roots));
    const refused = await sayHello(stranger).then(
      () => "served",
      (e: grpc.ServiceError) => e.code,
    );
    expect(refused).toBe(grpc.status.UNAVAILABLE);

    // Plaintext to a STRICT server.
    const plain = client(clientCerts, undefined, false);
    expect(
      await sayHello(plain).then(
        () => "served",
        (e: grpc.ServiceError) => e.code,
      ),
    ).toBe(grpc.status.UNAVAILABLE);
    expect(peers.length).toBe(calls); // neither reached the handler
    expect(await sayHello(good)).toContain("v1"); // and mesh traffic carries on
  }, 90_000);
});
