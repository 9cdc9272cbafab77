import { buildEvent, pvlStatusChangedV1 } from "@isthmus/events";
import { FIXES } from "@isthmus/pvl-manager";
import { describe, expect, it } from "vitest";
import { accessProblem, hostAllowed } from "../src/domain/access.js";
import { lineDiff } from "../src/domain/diff.js";
import { ReadModel } from "../src/domain/read-model.js";
import { redactSecrets } from "../src/domain/redact.js";
import { proxyRows, topology, trafficGraph } from "../src/domain/views.js";
import type { Update } from "../src/domain/wire.js";
import { cluster, destinationRule, gateway, incoming, proxy, service, virtualService } from "./fixtures.js";

const mesh = "m";

function demoModel(): ReadModel {
  const m = new ReadModel(mesh, ["S"]);
  m.apply(incoming(cluster(mesh, "cluster-1", "managed", "network1")));
  m.apply(incoming(cluster(mesh, "cluster-2", "discovery-only", "network2")));
  m.apply(incoming(gateway(mesh, "network2")));
  m.apply(
    incoming(
      service(mesh, "cluster-1", "network1", [
        { ip: "10.0.0.1", version: "v1" },
        { ip: "10.0.0.2", version: "v1", ready: false },
      ]),
    ),
  );
  m.apply(
    incoming(
      service(mesh, "cluster-2", "network2", [
        { ip: "10.1.0.1", version: "v2" },
        { ip: "10.1.0.2", version: "v2", terminating: true },
      ]),
    ),
  );
  return m;
}

describe("read model", () => {
  it("keeps the latest state per subject, counts endpoints ready / not ready / terminating, and drops an entity on its tombstone", () => {
    const m = demoModel();
    const updates: Update[] = [];
    m.subscribe((u) => updates.push(u));
    const services = m.snapshot().entities.filter((e) => e.kind === "service");
    expect(services.map((s) => (s.kind === "service" ? [s.cluster, s.counts] : []))).toEqual([
      ["cluster-1", { ready: 1, notReady: 1, terminating: 0 }],
      ["cluster-2", { ready: 1, notReady: 0, terminating: 1 }],
    ]);
    const scaled = service(mesh, "cluster-1", "network1", [
      { ip: "10.0.0.1", version: "v1" },
      { ip: "10.0.0.2", version: "v1" },
      { ip: "10.0.0.3", version: "v1" },
    ]);
    m.apply(incoming(scaled));
    const put = updates.find((u) => u.op === "put");
    expect(put?.op === "put" && put.entity.kind === "service" && put.entity.counts).toEqual({ ready: 3, notReady: 0, terminating: 0 });
    m.apply({
      kind: "deleted",
      stream: "S",
      subject: scaled.subject,
      seq: 99,
      type: "io.isthmus.tombstone.v1",
      time: new Date().toISOString(),
      source: "discovery",
    });
    expect(m.get(scaled.subject)).toBeUndefined();
    expect(updates.some((u) => u.op === "del" && u.key === scaled.subject)).toBe(true);
    expect(m.snapshot().feed.at(-1)).toMatchObject({ subject: scaled.subject, deleted: true });
  });

  it("shows a proxy's sync state per xDS type as proxy-status computes it, with the NACK reason", () => {
    const m = new ReadModel(mesh, ["S"]);
    m.apply(incoming(proxy(mesh, "10.0.0.9", { nack: "route has no cluster" })));
    const p = m.snapshot().entities[0];
    expect(p?.kind === "proxy" && p.sync).toEqual({
      CDS: { state: "SYNCED" },
      LDS: { state: "NACKED", error: "route has no cluster" },
      EDS: { state: "SYNCED" },
      RDS: { state: "SYNCED" },
    });
    expect(p?.kind === "proxy" && [p.ip, p.pod, p.namespace]).toEqual(["10.0.0.9", "sleep-1", "default"]);
  });

  it("gives each PrivateLink condition the seed's troubleshooting fix for its reason", () => {
    const m = new ReadModel(mesh, ["S"]);
    const now = new Date().toISOString();
    m.apply(
      incoming(
        buildEvent(
          pvlStatusChangedV1,
          mesh,
          {
            name: "default",
            status: "Failed",
            conditions: [{ type: "Ready", status: "False", reason: "ZoneMismatch", message: "zone cn-hangzhou-x is not an ASM zone", lastTransitionTime: now }],
            resourceStatus: { status: "Failed" },
          },
          { source: "pvl-manager" },
        ),
      ),
    );
    const p = m.snapshot().entities[0];
    expect(p?.kind === "pvl" && p.conditions[0]?.fix).toBe(FIXES.ZoneMismatch);
  });

  it("times a push as it sees it: a mesh change, then a proxy reporting new versions, every type synced", () => {
    let now = 1_000;
    const m = new ReadModel(mesh, ["S"], false, () => now);
    m.streamCaughtUp("S");
    m.apply(incoming(proxy(mesh, "10.0.0.9")));
    now = 2_000;
    m.apply(incoming(service(mesh, "cluster-1", "network1", [{ ip: "10.0.0.1", version: "v1" }])));
    now = 2_150;
    m.apply(incoming(proxy(mesh, "10.0.0.9", { version: "v8" })));
    now = 2_400;
    m.apply(incoming(proxy(mesh, "10.0.0.9", { version: "v8" }))); // nothing new acked: no second push
    expect(m.sample(now).pushMs).toBe(150);
    expect(m.sample(now + 10_000).pushMs).toBeUndefined();
  });

  it("announces caught-up once every stream has been read to its end, and feeds invalid events with their reason", () => {
    const m = new ReadModel(mesh, ["A", "B"]);
    const updates: Update[] = [];
    m.subscribe((u) => updates.push(u));
    m.streamCaughtUp("A");
    expect(m.caughtUp).toBe(false);
    m.streamCaughtUp("B");
    expect(m.caughtUp).toBe(true);
    expect(updates.filter((u) => u.op === "caught-up")).toHaveLength(1);
    m.apply({ kind: "invalid", stream: "A", subject: "mesh.m.discovery.x", seq: 3, reason: "not JSON" });
    expect(m.snapshot().feed.at(-1)).toMatchObject({ invalid: "not JSON", domain: "discovery" });
  });
});

describe("views", () => {
  it("topology: clusters by region and network with mode, gateways and services", () => {
    const [region] = topology(demoModel().snapshot().entities);
    expect(region?.region).toBe("local");
    expect(region?.networks.map((n) => [n.network, n.clusters.map((c) => [c.id, c.cluster?.mode, c.services.map((s) => s.name)]), n.gateways.length])).toEqual([
      ["network1", [["cluster-1", "managed", ["helloworld"]]], 0],
      ["network2", [["cluster-2", "discovery-only", ["helloworld"]]], 1],
    ]);
  });

  it("traffic graph: VirtualService weights to subsets, DestinationRule policies, and where each subset's endpoints run", () => {
    const m = demoModel();
    m.apply(incoming(virtualService(mesh, [80, 20])));
    m.apply(incoming(destinationRule(mesh)));
    const g = trafficGraph(m.snapshot().entities, "helloworld.default.svc.cluster.local");
    expect(g.routes).toEqual([
      {
        name: "split",
        match: "any request",
        policies: { retries: { attempts: 3 } },
        destinations: [
          { host: "helloworld.default.svc.cluster.local", subset: "v1", weight: 80 },
          { host: "helloworld.default.svc.cluster.local", subset: "v2", weight: 20 },
        ],
      },
    ]);
    expect(g.subsets.map((s) => [s.name, s.placement.map((p) => [p.cluster, p.network, p.counts])])).toEqual([
      ["v1", [["cluster-1", "network1", { ready: 1, notReady: 1, terminating: 0 }]]],
      ["v2", [["cluster-2", "network2", { ready: 1, notReady: 0, terminating: 1 }]]],
    ]);
    expect(g.trafficPolicy).toEqual({ loadBalancer: { simple: "ROUND_ROBIN" } });
    expect(g.subsets[1]?.trafficPolicy).toEqual({ connectionPool: { tcp: { maxConnections: 10 } } });
  });

  it("proxies: the cluster a proxy runs in comes from the endpoint with its address; filters by cluster and state", () => {
    const m = demoModel();
    m.apply(incoming(proxy(mesh, "10.0.0.1")));
    m.apply(incoming(proxy(mesh, "10.1.0.1", { nack: "bad" })));
    const all = m.snapshot().entities;
    expect(proxyRows(all).map((r) => [r.proxy.ip, r.cluster, r.state])).toEqual([
      ["10.0.0.1", "cluster-1", "SYNCED"],
      ["10.1.0.1", "cluster-2", "NACKED"],
    ]);
    expect(proxyRows(all, { state: "NACKED" }).map((r) => r.proxy.ip)).toEqual(["10.1.0.1"]);
    expect(proxyRows(all, { cluster: "cluster-1" }).map((r) => r.proxy.ip)).toEqual(["10.0.0.1"]);
  });
});

describe("helpers", () => {
  it("line diff keeps common lines and marks what was removed and added", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc")).toEqual([
      { op: " ", text: "a" },
      { op: "-", text: "b" },
      { op: "+", text: "x" },
      { op: " ", text: "c" },
    ]);
    expect(lineDiff("", "a")).toEqual([{ op: "+", text: "a" }]);
  });

  it("redacts private keys and passwords wherever they sit in a config dump", () => {
    const dump = {
      configs: [
        {
          dynamic_active_secrets: [
            { name: "default", secret: { tls_certificate: { certificate_chain: { inline_bytes: "Q0VSVA==" }, private_key: { inline_bytes: "S0VZ" } } } },
          ],
        },
      ],
      note: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
      password: "hunter2",
    };
    const r = JSON.stringify(redactSecrets(dump));
    expect(r).not.toContain("S0VZ");
    expect(r).not.toContain("hunter2");
    expect(r).not.toContain("PRIVATE KEY");
    expect(r).toContain("Q0VSVA==");
  });

  it("refuses to listen beyond loopback without a login token, and a console without one answers only loopback host names", () => {
    expect(accessProblem({ host: "127.0.0.1" })).toBeUndefined();
    expect(accessProblem({ host: "0.0.0.0" })).toMatch(/without a login token: set CONSOLE_TOKEN/);
    expect(accessProblem({ host: "0.0.0.0", token: "short" })).toMatch(/at least 16/);
    expect(accessProblem({ host: "0.0.0.0", token: "a-long-enough-token" })).toBeUndefined();
    expect(hostAllowed("127.0.0.1:8080", { host: "127.0.0.1" })).toBe(true);
    expect(hostAllowed("localhost:8080", { host: "127.0.0.1" })).toBe(true);
    expect(hostAllowed("evil.example:8080", { host: "127.0.0.1" })).toBe(false);
    expect(hostAllowed("evil.example", { host: "0.0.0.0", token: "a-long-enough-token" })).toBe(true);
  });
});
