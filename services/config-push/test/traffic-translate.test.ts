import { describe, expect, it } from "vitest";
import { destinationPolicy, durationMs, fqdn, localitiesOf, routesFor } from "../src/index.js";

const H = "reviews.default.svc.cluster.local";
const vs = (http: unknown[]) => ({ kind: "VirtualService", namespace: "default", name: "r", spec: { hosts: ["reviews"], http } });

describe("VirtualService -> routes", () => {
  it.each([
    [
      "no VirtualService: everything to the default cluster",
      undefined,
      [{ match: { prefix: "" }, action: { clusters: [{ name: `outbound|9080||${H}`, weight: 100 }] } }],
    ],
    [
      "weighted subsets",
      vs([
        {
          route: [
            { destination: { host: "reviews", subset: "v1" }, weight: 90 },
            { destination: { host: "reviews", subset: "v2" }, weight: 10 },
          ],
        },
      ]),
      [
        {
          match: { prefix: "" },
          action: {
            clusters: [
              { name: `outbound|9080|v1|${H}`, weight: 90 },
              { name: `outbound|9080|v2|${H}`, weight: 10 },
            ],
          },
        },
      ],
    ],
    [
      "path and header matches, one route per match, first wins",
      vs([
        {
          match: [{ uri: { exact: "/x.Svc/Get" } }, { headers: { "end-user": { exact: "jason" } } }],
          route: [{ destination: { host: "reviews", subset: "v2" } }],
        },
      ]),
      [
        { match: { path: "/x.Svc/Get" }, action: { clusters: [{ name: `outbound|9080|v2|${H}`, weight: 100 }] } },
        { match: { prefix: "", headers: [{ name: "end-user", exact: "jason" }] }, action: { clusters: [{ name: `outbound|9080|v2|${H}`, weight: 100 }] } },
      ],
    ],
    [
      "retries, timeout, fault abort with a gRPC status and delay",
      vs([
        {
          route: [{ destination: { host: "reviews" } }],
          retries: { attempts: 3, retryOn: "unavailable", perTryTimeout: "500ms" },
          timeout: "2s",
          fault: { abort: { percentage: { value: 50 }, grpcStatus: "UNAVAILABLE" }, delay: { percentage: { value: 10 }, fixedDelay: "1.5s" } },
        },
      ]),
      [
        {
          match: { prefix: "" },
          action: {
            clusters: [{ name: `outbound|9080||${H}`, weight: 100 }],
            timeoutMs: 2000,
            retry: { retryOn: "unavailable", attempts: 3, perTryTimeoutMs: 500 },
            fault: { abort: { percent: 50, grpcStatus: 14 }, delay: { percent: 10, fixedDelayMs: 1500 } },
          },
        },
      ],
    ],
  ])("%s", (_what, v, want) => {
    expect(routesFor(H, 9080, v)).toEqual(want);
  });
});

describe("bad VirtualServices", () => {
  it("refuses regexes RE2 cannot compile, and the host keeps default routing", async () => {
    const { MeshModel, translate } = await import("../src/index.js");
    const bad = vs([{ match: [{ uri: { regex: "(unclosed" } }], route: [{ destination: { host: "reviews" } }] }]);
    expect(() => routesFor(H, 9080, bad)).toThrow(/not a valid regular expression/);
    expect(() => routesFor(H, 9080, vs([{ match: [{ headers: { x: { regex: "(?=a)b" } } }], route: [{ destination: { host: "reviews" } }] }]))).toThrow(
      /RE2 does not support/,
    );
    const model = new MeshModel();
    model.upsert("s", {
      cluster: "c",
      namespace: "default",
      name: "reviews",
      hostname: H,
      ports: [{ name: "grpc", port: 9080, protocol: "GRPC" }],
      endpoints: [],
      stale: false,
    });
    model.upsertConfig("v", bad);
    const problems: Array<{ resource: string; reason: string }> = [];
    const out = translate(model, undefined, problems);
    expect(problems).toMatchObject([
      { resource: "VirtualService default/r", reason: expect.stringMatching(/match.uri.regex: "\(unclosed" is not a valid regular expression/) },
    ]);
    expect(problems).toHaveLength(1);
    expect([...(out.values().next().value?.keys() ?? [])]).toEqual([`${H}:9080`]);
  });
});

describe("DestinationRule -> cluster policies and subsets", () => {
  it("carries load balancer, outlier detection and connection limits, subsets inheriting the default", () => {
    const dr = {
      kind: "DestinationRule",
      namespace: "default",
      name: "reviews",
      spec: {
        host: "reviews",
        trafficPolicy: {
          loadBalancer: { simple: "LEAST_REQUEST" },
          outlierDetection: { consecutive5xxErrors: 2, interval: "1s", baseEjectionTime: "30s", maxEjectionPercent: 100 },
          connectionPool: { http: { http2MaxRequests: 64 } },
        },
        subsets: [
          { name: "v1", labels: { version: "v1" } },
          { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "x-user" } } } },
        ],
      },
    };
    const r = destinationPolicy(dr);
    expect(r.policy).toEqual({
      lbPolicy: "LEAST_REQUEST",
      outlierDetection: { consecutive5xx: 2, intervalMs: 1000, baseEjectionMs: 30000, maxEjectionPercent: 100 },
      maxRequests: 64,
    });
    expect(r.subsets.map((s) => [s.name, s.labels, s.policy.lbPolicy, s.policy.maxRequests])).toEqual([
      ["v1", { version: "v1" }, "LEAST_REQUEST", 64],
      ["v2", { version: "v2" }, "RING_HASH", 64],
    ]);
  });

  it("resolves short host names in the resource's namespace and reads Istio durations", () => {
    expect(fqdn("reviews", "bookinfo")).toBe("reviews.bookinfo.svc.cluster.local");
    expect(fqdn("reviews.other", "bookinfo")).toBe("reviews.other"); // Istio expands only dotless names
    expect(fqdn("api.example.com", "bookinfo")).toBe("api.example.com");
    expect([durationMs("250ms"), durationMs("1.5s"), durationMs("2m")]).toEqual([250, 1500, 120000]);
    expect(() => durationMs("soon")).toThrow(/not a duration/);
  });
});

describe("endpoints across networks", () => {
  const ep = (address: string, network: string, zone = "z1") => ({
    address,
    ports: { grpc: 8080 },
    targetPort: 8080,
    ready: true,
    serving: true,
    terminating: false,
    cluster: network === "n1" ? "c1" : "c2",
    network,
    locality: { region: "r", zone, subzone: "" },
    labels: {},
  });
  const hp = {
    host: "h.default.svc.cluster.local",
    namespace: "default",
    port: 8080,
    portName: "grpc",
    protocol: "GRPC",
    endpoints: [ep("10.1.0.1", "n1"), ep("10.2.0.1", "n2"), ep("10.2.0.2", "n2"), ep("10.3.0.1", "n3")],
  };
  const gateways = new Map([["n2", [{ address: "34.1.1.1", port: 15443 }]]]);

  it.each([
    ["a proxy without a network sees every endpoint as it is", "", ["10.1.0.1:8080", "10.2.0.1:8080", "10.2.0.2:8080", "10.3.0.1:8080"]],
    ["network n1: n2 behind its gateway (weight 2), n3 without a gateway dropped", "n1", ["10.1.0.1:8080", "34.1.1.1:15443x2"]],
    ["network n2: its own endpoints direct, n1 dropped (no gateway)", "n2", ["10.2.0.1:8080", "10.2.0.2:8080"]],
  ])("%s", (_what, network, expected) => {
    const got = localitiesOf(hp, {}, network, gateways).flatMap((l) => l.endpoints.map((e) => `${e.address}:${e.port}${e.weight ? `x${e.weight}` : ""}`));
    expect(got.sort()).toEqual(expected);
  });
});
