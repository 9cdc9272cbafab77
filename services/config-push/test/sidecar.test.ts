import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { buildEvent, trustBundleUpdatedV1 } from "@isthmus/events";
import { HealthServer } from "@isthmus/telemetry";
import { expectValidXds, waitFor } from "@isthmus/testing";
import { adsClient, fromAny, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_FILES, agentRound } from "../../../cli/src/commands/agent.js";
import { proxyConfig } from "../../../cli/src/commands/proxy-config.js";
import { type MeshCa, makeRoot, startMeshCa } from "../../cert-authority/test/harness.js";
import { configApplied, runCli, type Testbed, testbed } from "./testbed.js";

// An Envoy sidecar's view over an mTLS xDS connection: Istio's listener and cluster shapes,
// SDS for its certificate and roots, and identity checks on who may ask for what.
const HOST = "helloworld.default.svc.cluster.local";
const SLEEP = "sidecar~10.1.0.5~sleep-1.default~default.svc.cluster.local";

let tb: Testbed;
let ca: MeshCa;
let roots: string[];
const dirs: Record<string, string> = {};
const closers: Array<() => void> = [];
let http: HealthServer;
let httpPort: number;

async function provision(namespace: string, sa: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), `sidecar-${sa}-`));
  const rootsFile = join(out, "ca-roots.pem");
  writeFileSync(rootsFile, roots.join(""));
  const token = ca.api.issueServiceAccountToken({ namespace, serviceAccount: sa });
  await agentRound({ caAddress: `localhost:${ca.ca.grpcPort}`, caRoots: rootsFile, out, token, clusterId: "cluster-1", keyAlg: "ec-p256" });
  return out;
}

interface Response {
  type_url: string;
  version_info: string;
  nonce: string;
  resources: Array<{ type_url: string; value: Buffer }>;
}

/** An Envoy-like SotW client over mTLS with the given workload's certificate. */
function envoy(node: { id: string; metadata?: unknown }, certDir: string | undefined) {
  const creds = certDir
    ? grpc.credentials.createSsl(
        readFileSync(join(certDir, AGENT_FILES.roots)),
        readFileSync(join(certDir, AGENT_FILES.key)),
        readFileSync(join(certDir, AGENT_FILES.chain)),
        {
          // The server is identified by its SPIFFE id, not a host name.
          checkServerIdentity: (_host, cert) =>
            cert.subjectaltname === "URI:spiffe://cluster.local/ns/istio-system/sa/config-push"
              ? undefined
              : new Error(`unexpected server ${cert.subjectaltname}`),
        },
      )
    : grpc.credentials.createInsecure();
  const client = adsClient(`127.0.0.1:${tb.cp.port}`, creds);
  const call = client.StreamAggregatedResources() as grpc.ClientDuplexStream<unknown, Response>;
  const got = new Map<string, Response>();
  let error: grpc.ServiceError | undefined;
  call.on("data", (r: Response) => {
    got.set(r.type_url, r);
    call.write({ node, type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names.get(r.type_url) ?? [] });
  });
  call.on("error", (e: grpc.ServiceError) => {
    error = e;
  });
  const names = new Map<string, string[]>();
  closers.push(() => {
    call.cancel();
    client.close();
  });
  return {
    got,
    error: () => error,
    ask(type: string, resourceNames: string[] = []) {
      names.set(type, resourceNames);
      call.write({ node, type_url: type, resource_names: resourceNames, version_info: "", response_nonce: "" });
    },
    names: (type: string) => (got.get(type)?.resources ?? []).map((r) => (fromAny(r) as { name: string }).name).sort(),
    decoded: (type: string) => (got.get(type)?.resources ?? []).map((r) => fromAny(r) as Record<string, unknown>),
  };
}

beforeAll(async () => {
  ca = await startMeshCa(await makeRoot(), { bus: false });
  roots = await ca.ca.bundle();
  dirs.cp = await provision("istio-system", "config-push");
  dirs.sleep = await provision("default", "sleep");
  tb = await testbed("sidecar", "unused", {
    config: { tls: { certFile: join(dirs.cp, AGENT_FILES.chain), keyFile: join(dirs.cp, AGENT_FILES.key), caFile: join(dirs.cp, AGENT_FILES.roots) } },
  });
  // The trust bundle as the CA publishes it, and the mesh: helloworld (STRICT mTLS namespace) and sleep itself.
  const bundle = buildEvent(trustBundleUpdatedV1, tb.fx.mesh, { trustDomain: "cluster.local", roots, version: 1 }, { source: "test/ca" });
  await tb.pub.publish(bundle.subject, bundle.event);
  await tb.publishConfig("PeerAuthentication", "default", { mtls: { mode: "STRICT" } });
  await configApplied(tb.cp, "PeerAuthentication", "default");
  await tb.publishService("helloworld", [{ port: 5000, address: "10.1.0.7", serviceAccount: "helloworld" }]);
  await tb.publishService("sleep", [{ port: 8080, address: "10.1.0.5", pod: "sleep-1", serviceAccount: "sleep" }]);
  http = new HealthServer();
  for (const [path, h] of Object.entries(tb.cp.debug)) http.addRoute(path, h);
  httpPort = await http.listen();
}, 60_000);
afterAll(async () => {
  for (const c of closers) c();
  await http.close();
  await tb.dispose();
  await ca.stop();
});

describe("Envoy sidecars", () => {
  it("get Istio's listeners and clusters, and SDS for their certificate and roots over an mTLS xDS connection", async () => {
    const p = envoy({ id: SLEEP }, dirs.sleep);
    p.ask(TYPE.cluster);
    p.ask(TYPE.listener);
    await waitFor(() => p.names(TYPE.cluster).includes(`outbound|5000||${HOST}`) && p.got.has(TYPE.listener), 15_000, "CDS and LDS");

    expect(p.names(TYPE.listener)).toEqual(["0.0.0.0_5000", "virtualInbound", "virtualOutbound"]);
    expect(p.names(TYPE.cluster)).toEqual(expect.arrayContaining(["PassthroughCluster", "inbound|8080||", `outbound|5000||${HOST}`]));
    // Its own workload (sleep-1, target port 8080 of the sleep service) is on the inbound side, with mTLS required.
    const inbound = p.decoded(TYPE.listener).find((l) => l.name === "virtualInbound") as { filter_chains: Array<Record<string, unknown>> };
    expect(inbound.filter_chains.map((c) => (c.filter_chain_match as { destination_port: { value: number } }).destination_port.value)).toEqual([8080]);
    expect(JSON.stringify(inbound.filter_chains[0]?.transport_socket)).toContain("DownstreamTlsContext");
    // Outbound to helloworld: mTLS through SDS, helloworld's identity checked, Istio's SNI.
    const hw = p.decoded(TYPE.cluster).find((c) => c.name === `outbound|5000||${HOST}`) as {
      transport_socket: { typed_config: { type_url: string; value: Buffer } };
    };
    const tls = fromAny(hw.transport_socket.typed_config) as { sni: string; common_tls_context: Record<string, unknown> };
    expect(tls.sni).toBe(`outbound_.5000_._.${HOST}`);
    expect(JSON.stringify(tls.common_tls_context)).toContain("spiffe://cluster.local/ns/default/sa/helloworld");
    expect(JSON.stringify(tls.common_tls_context)).toContain('"ROOTCA"');

    // SDS: its certificate (files its agent keeps; no key crosses the wire) and the roots; another namespace's secret is refused.
    p.ask(TYPE.secret, ["default", "ROOTCA", "kubernetes://payments/api-cert"]);
    await waitFor(() => p.names(TYPE.secret).length === 2, 10_000, "SDS");
    const secrets = Object.fromEntries(p.decoded(TYPE.secret).map((s) => [s.name, JSON.stringify(s)]));
    expect(Object.keys(secrets).sort()).toEqual(["ROOTCA", "default"]);
    expect(secrets.ROOTCA).toContain(roots[0]?.split("\n")[1]);
    expect(secrets.default).toContain("/var/run/secrets/workload-spiffe-credentials/key.pem");
    expect(secrets.default).not.toContain("PRIVATE KEY");
    const conn = [...tb.cp.ads.proxies.values()].find((c) => c.id === SLEEP);
    expect(conn?.types.get(TYPE.secret)?.error).toMatch(/kubernetes:\/\/payments\/api-cert belongs to namespace payments; proxy is in default/);

    // The config dump, as the debug endpoint and `isthmus proxy-config` show it.
    const dump = (await (await fetch(`http://127.0.0.1:${httpPort}/debug/config_dump?proxyID=${encodeURIComponent(SLEEP)}`)).json()) as {
      configs: Array<Record<string, unknown>>;
    };
    expect(dump.configs.map((c) => c["@type"])).toContain("type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
    const lines: string[] = [];
    await proxyConfig({ kind: "cluster", proxy: SLEEP, url: `http://127.0.0.1:${httpPort}` }, (s) => lines.push(s));
    expect(lines.join("\n")).toMatch(/helloworld\.default\.svc\.cluster\.local\s+5000\s+-\s+outbound\s+EDS/);

    // Everything the sidecar was given passes Envoy's constraints: over the wire, and through `isthmus proxy-config --validate`.
    p.ask(TYPE.route, ["5000"]);
    p.ask(
      TYPE.endpoint,
      p.names(TYPE.cluster).filter((n) => n.startsWith("outbound|")),
    );
    await waitFor(() => p.names(TYPE.route).length === 1 && p.got.has(TYPE.endpoint), 10_000, "RDS and EDS");
    expectValidXds([...p.got.values()].flatMap((r) => r.resources));
    const cli = await runCli(["proxy-config", "all", SLEEP, "--url", `http://127.0.0.1:${httpPort}`, "--validate"]);
    expect(cli).toEqual({ code: 0, out: expect.stringMatching(/^\d+ resources checked against Envoy's constraints: 0 violation\(s\), 0 warning\(s\)\n$/) });
    const checked = Number(/^(\d+)/.exec(cli.out)?.[1]);
    expect(checked).toBe([...p.got.values()].reduce((n, r) => n + r.resources.length, 0));

    const syncz = (await (await fetch(`http://127.0.0.1:${httpPort}/debug/syncz`)).json()) as Array<{
      proxyId: string;
      types: Record<string, { state: string }>;
    }>;
    expect(syncz.find((s) => s.proxyId === SLEEP)?.types.CDS?.state).toBe("SYNCED");
  });

  it("refuses a proxy whose node claims another namespace than its certificate, another mesh, or no certificate", async () => {
    const liar = envoy({ id: "sidecar~10.1.0.9~api-0.payments~payments.svc.cluster.local" }, dirs.sleep);
    liar.ask(TYPE.cluster);
    await waitFor(() => liar.error() !== undefined, 10_000, "refusal of the namespace claim");
    expect(liar.error()?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(liar.error()?.details).toMatch(/claims namespace payments but its certificate is for namespace default/);

    const otherMesh = envoy({ id: SLEEP, metadata: { fields: { MESH_ID: { stringValue: "mesh-elsewhere" } } } }, dirs.sleep);
    otherMesh.ask(TYPE.cluster);
    await waitFor(() => otherMesh.error() !== undefined, 10_000, "refusal of another mesh");
    expect(otherMesh.error()?.details).toMatch(/belongs to mesh mesh-elsewhere/);

    const anonymous = envoy({ id: SLEEP }, undefined);
    anonymous.ask(TYPE.cluster);
    await waitFor(() => anonymous.error() !== undefined, 10_000, "refusal of plaintext");
    expect(anonymous.error()?.code).toBe(grpc.status.UNAVAILABLE); // plaintext to a TLS listener
    expect(anonymous.got.size).toBe(0);
  });
});
