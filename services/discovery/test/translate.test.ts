import { describe, expect, it } from "vitest";
import { selectProtocol, translateService, translateServiceEntry } from "../src/index.js";
import { k8s } from "./objects.js";

const cluster = { id: "cluster-1", mode: "managed" as const, network: "network1", region: "r-default", zone: "z-default" };
const none = { pod: () => undefined, node: () => undefined };

describe("protocol selection (Istio rules)", () => {
  it.each([
    [{ name: "grpc" }, "GRPC"],
    [{ name: "http-web" }, "HTTP"],
    [{ name: "http2" }, "HTTP2"],
    [{ name: "tcp-db" }, "TCP"],
    [{ name: "https" }, "HTTPS"],
    [{ name: "mongo" }, "MONGO"],
    [{ name: "web" }, "TCP"],
    [{ name: "", appProtocol: "kubernetes.io/h2c" }, "HTTP2"],
    [{ name: "http", appProtocol: "grpc" }, "GRPC"],
    [{ name: "dns", protocol: "UDP" }, "UDP"],
  ])("%j -> %s", (port, want) => {
    expect(selectProtocol(port)).toBe(want);
  });
});

describe("translateService", () => {
  it("carries ports, readiness, pod labels, service account, locality from the node, and the network", () => {
    const svc = k8s.service("helloworld");
    const slice = k8s.slice("hw-1", "helloworld", "default", [
      { ip: "10.0.0.2", pod: "hw-v1-0", node: "n1" },
      { ip: "10.0.0.1", pod: "hw-v1-1", node: "n1", ready: false },
    ]);
    const pods: Record<string, ReturnType<typeof k8s.pod>> = {
      "hw-v1-0": k8s.pod("hw-v1-0", "default", { app: "helloworld", version: "v1" }, "helloworld", "n1"),
      "hw-v1-1": k8s.pod("hw-v1-1", "default", { app: "helloworld", version: "v1", "topology.istio.io/network": "other-net" }, "helloworld", "n1"),
    };
    const { state, skipped } = translateService(cluster, svc, [slice], { pod: (_ns, n) => pods[n], node: () => k8s.node("n1", "eu-west", "eu-west-1a") });
    expect(skipped).toEqual([]);
    expect(state?.hostname).toBe("helloworld.default.svc.cluster.local");
    expect(state?.ports).toEqual([{ name: "grpc", port: 5000, targetPort: 5000, protocol: "GRPC" }]);
    expect(state?.endpoints.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2"]); // sorted
    expect(state?.endpoints[1]).toEqual({
      address: "10.0.0.2",
      ports: { grpc: 5000 },
      ready: true,
      serving: true,
      terminating: false,
      cluster: "cluster-1",
      network: "network1",
      locality: { region: "eu-west", zone: "eu-west-1a", subzone: "" },
      labels: { app: "helloworld", version: "v1" },
      serviceAccount: "helloworld",
      pod: "hw-v1-0",
      node: "n1",
    });
    expect(state?.endpoints[0]).toMatchObject({ ready: false, serving: false, network: "other-net" });
  });

  it("skips bad parts with a reason and publishes the rest", () => {
    const svc = k8s.service("s", "default", [
      { name: "grpc", port: 5000 },
      { name: "bad", port: 70000 },
    ]);
    const good = k8s.slice("s-1", "s", "default", [{ ip: "10.1.0.1" }, { ip: "not-an-ip" }, { ip: "10.1.0.300" }]);
    const fqdn = { ...k8s.slice("s-2", "s", "default", [{ ip: "10.1.0.9" }]), addressType: "FQDN" };
    const badPort = k8s.slice("s-3", "s", "default", [{ ip: "10.1.0.3" }], { name: "grpc", port: -1 });
    const bigLabels = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`l${i}`, "x"]));
    const noisy = k8s.slice("s-4", "s", "default", [{ ip: "10.1.0.4", pod: "noisy" }]);
    const { state, skipped } = translateService(cluster, svc, [good, fqdn, badPort, noisy], {
      pod: () => k8s.pod("noisy", "default", bigLabels, "sa", "n"),
      node: () => undefined,
    });
    expect(state?.ports.map((p) => p.port)).toEqual([5000]);
    expect(state?.endpoints.map((e) => e.address)).toEqual(["10.1.0.1", "10.1.0.3"]);
    expect(skipped.map((s) => s.reason)).toEqual([
      "invalid port 70000",
      'invalid IP address "not-an-ip"',
      'invalid IP address "10.1.0.300"',
      'unknown address type "FQDN"',
      "invalid port -1",
      "oversized label set: 100 labels (more than 64)",
    ]);
  });

  it("refuses endpoint addresses no proxy may be sent to: unspecified, broadcast, link-local and cloud metadata, multicast", () => {
    const bad = ["0.0.0.0", "::", "255.255.255.255", "169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "fe80::1", "224.0.0.1", "ff02::1"];
    const slice = k8s.slice("s-1", "s", "default", [{ ip: "10.1.0.1" }, { ip: "127.0.0.1" }, ...bad.map((ip) => ({ ip }))]);
    const { state, skipped } = translateService(cluster, k8s.service("s"), [slice], none);
    expect(state?.endpoints.map((e) => e.address)).toEqual(["10.1.0.1", "127.0.0.1"]);
    expect(skipped.map((x) => x.reason.replace(/ is .*/, ""))).toEqual(bad.map((ip) => `endpoint address ${ip}`));
    expect(skipped.find((x) => x.reason.includes("169.254.169.254"))?.reason).toMatch(/metadata/);
    const se = translateServiceEntry(
      cluster,
      {
        metadata: { name: "x", namespace: "default" },
        spec: { hosts: ["x.example"], ports: [{ number: 80, name: "http" }], endpoints: [{ address: "169.254.169.254" }] },
      },
      [],
    );
    expect(se.state?.endpoints).toEqual([]);
    expect(se.skipped[0]?.reason).toMatch(/endpoint address 169\.254\.169\.254 is link-local/);
  });

  it("refuses a Service without a name, saying so", () => {
    const r = translateService(cluster, { metadata: { namespace: "x" } }, [], none);
    expect(r.state).toBeUndefined();
    expect(r.skipped[0]?.reason).toMatch(/missing metadata.name/);
  });
});

describe("translateServiceEntry", () => {
  it("turns a ServiceEntry and the WorkloadEntries it selects into endpoints", () => {
    const se = {
      metadata: { name: "legacy-db", namespace: "data" },
      spec: {
        hosts: ["db.legacy.internal"],
        ports: [{ number: 3306, name: "mysql", protocol: "MYSQL" }],
        workloadSelector: { labels: { app: "db" } },
        endpoints: [{ address: "192.168.1.10", locality: "r1/z1" }],
      },
    };
    const we = [
      {
        metadata: { name: "vm-1", namespace: "data", labels: { app: "db" } },
        spec: { address: "192.168.1.11", serviceAccount: "db", network: "vm-net", ports: { mysql: 13306 } },
      },
      { metadata: { name: "vm-other", namespace: "data", labels: { app: "web" } }, spec: { address: "192.168.1.12" } },
    ];
    const { state } = translateServiceEntry(cluster, se, we);
    expect(state?.hostname).toBe("db.legacy.internal");
    expect(state?.ports).toEqual([{ name: "mysql", port: 3306, protocol: "MYSQL" }]);
    expect(state?.endpoints.map((e) => [e.address, e.ports.mysql, e.network, e.locality.zone])).toEqual([
      ["192.168.1.10", 3306, "network1", "z1"],
      ["192.168.1.11", 13306, "vm-net", "z-default"],
    ]);
  });
});
