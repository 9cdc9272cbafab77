import { expectValidXds } from "@isthmus/testing";
import { describe, expect, it } from "vitest";
import { MeshModel, translate } from "../src/index.js";

// Every feature config-push translates today, on one mesh, for both proxy flavours: what it
// would push passes Envoy's constraints (protoc-gen-validate rules and Envoy's code rules).
const ns = "default";
const endpoint = (i: number, version: string) => ({
  address: `10.0.0.${i}`,
  ports: {},
  ready: i % 3 !== 0,
  serving: true,
  terminating: false,
  cluster: i % 2 ? "c1" : "c2",
  network: i % 2 ? "n1" : "n2",
  locality: { region: "r", zone: `z${i % 2}`, subzone: "" },
  labels: { app: "reviews", version },
  pod: `reviews-${i}`,
  serviceAccount: "reviews",
});

function mesh(): MeshModel {
  const m = new MeshModel();
  m.upsert("reviews", {
    cluster: "c1",
    namespace: ns,
    name: "reviews",
    hostname: "reviews.default.svc.cluster.local",
    ports: [
      { name: "http", port: 9080, protocol: "HTTP" },
      { name: "grpc", port: 9090, protocol: "GRPC" },
    ],
    endpoints: [endpoint(1, "v1"), endpoint(2, "v2"), endpoint(3, "v2")],
    stale: false,
  });
  m.upsert("ratings", {
    cluster: "c1",
    namespace: ns,
    name: "ratings",
    hostname: "ratings.default.svc.cluster.local",
    ports: [{ name: "http", port: 9080, protocol: "HTTP" }],
    endpoints: [],
    stale: false,
  });
  m.setGateway("n2", [{ address: "192.0.2.1", port: 15443 }]);
  m.trustBundles.set("cluster.local", ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]);
  m.upsertConfig("pa", { kind: "PeerAuthentication", namespace: ns, name: "default", spec: { mtls: { mode: "STRICT" } } });
  m.upsertConfig("vs", {
    kind: "VirtualService",
    namespace: ns,
    name: "reviews",
    spec: {
      hosts: ["reviews"],
      http: [
        {
          name: "jason",
          match: [{ headers: { "end-user": { exact: "jason" } } }, { uri: { regex: "/v2/.*" } }],
          route: [{ destination: { host: "reviews", subset: "v2" } }],
          retries: { attempts: 3, retryOn: "unavailable", perTryTimeout: "500ms" },
          timeout: "2s",
          fault: { abort: { percentage: { value: 50 }, grpcStatus: "UNAVAILABLE" }, delay: { percentage: { value: 10 }, fixedDelay: "1.5s" } },
        },
        {
          match: [{ uri: { prefix: "/api" } }],
          route: [
            { destination: { host: "reviews", subset: "v1" }, weight: 90 },
            { destination: { host: "reviews", subset: "v2" }, weight: 10 },
          ],
          fault: { abort: { percentage: { value: 1 }, httpStatus: 418 } },
        },
        { route: [{ destination: { host: "ratings", port: { number: 9080 } } }] },
      ],
    },
  });
  m.upsertConfig("dr", {
    kind: "DestinationRule",
    namespace: ns,
    name: "reviews",
    spec: {
      host: "reviews",
      trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" }, connectionPool: { http: { http2MaxRequests: 1 } } },
      subsets: [
        { name: "v1", labels: { version: "v1" }, trafficPolicy: { outlierDetection: { consecutiveGatewayErrors: 1, interval: "250ms" } } },
        { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { simple: "LEAST_CONN", consistentHash: { useSourceIp: true } } } },
      ],
    },
  });
  return m;
}

describe("what translation produces passes Envoy's constraints", () => {
  it.each([
    ["proxyless gRPC", { flavour: "grpc" as const, network: "", inbound: [] }],
    ["proxyless gRPC on network n1", { flavour: "grpc" as const, network: "n1", inbound: [] }],
    ["an Envoy sidecar with no workload of its own", { flavour: "envoy" as const, network: "n1", inbound: [] }],
    ["the Envoy sidecar of a reviews pod", { flavour: "envoy" as const, network: "n1", inbound: [{ port: 9080, protocol: "HTTP", namespace: ns }] }],
  ])("%s", (_what, view) => {
    const problems: Array<{ resource: string; reason: string }> = [];
    const out = translate(mesh(), view, problems);
    expect(problems).toEqual([]);
    expect([...out.values()].reduce((n, m) => n + m.size, 0)).toBeGreaterThan(5);
    expectValidXds(out);
  });
});
