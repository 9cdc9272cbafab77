import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { admit, type ConfigObject, parseManifests, recordReads, supportDrift, unsupportedFields } from "@isthmus/config";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONFIG_PUSH_SUPPORT, MeshModel, translate } from "../src/index.js";

const service = (name: string, ports: Array<{ name: string; port: number; protocol: string }>) => ({
  cluster: "c1",
  namespace: "default",
  name,
  hostname: `${name}.default.svc.cluster.local`,
  ports,
  endpoints: [
    {
      address: "10.0.0.1",
      ready: true,
      serving: true,
      terminating: false,
      ports: {},
      labels: { version: "v1" },
      serviceAccount: "sa",
      locality: { region: "r", zone: "z", subzone: "" },
      network: "",
      cluster: "c1",
    },
    {
      address: "10.0.0.2",
      ready: true,
      serving: true,
      terminating: false,
      ports: {},
      labels: { version: "v2" },
      serviceAccount: "sa",
      locality: { region: "r", zone: "z", subzone: "" },
      network: "",
      cluster: "c1",
    },
  ],
  stale: false,
});

/** Objects that between them use every field the support table declares. */
const CORPUS: ConfigObject[] = [
  {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    namespace: "default",
    name: "features",
    labels: {},
    spec: {
      hosts: ["reviews"],
      http: [
        {
          match: [{ uri: { prefix: "/r" } }],
          rewrite: { uriRegexRewrite: { match: "^/r/(.*)", rewrite: "/\\1" } },
          route: [{ destination: { host: "reviews" } }],
          mirror: { host: "ratings", port: { number: 8080 } },
          mirrors: [{ destination: { host: "ratings", subset: "v1", port: { number: 8080 } }, percentage: { value: 10 } }],
          headers: { request: { add: { a: "1" }, remove: ["b"] }, response: { set: { c: "1" }, add: { d: "1" }, remove: ["e"] } },
          corsPolicy: {
            allowOrigins: [{ exact: "https://a" }, { prefix: "https://b" }, { regex: "https://c.*" }],
            allowOrigin: ["https://d"],
            allowMethods: ["GET"],
            allowHeaders: ["x"],
            exposeHeaders: ["y"],
            maxAge: "1h",
            allowCredentials: true,
            unmatchedPreflights: "FORWARD",
          },
        },
        { match: [{ uri: { prefix: "/old" } }], redirect: { uri: "/new", authority: "b", port: 8443, scheme: "https", redirectCode: 301 } },
        { match: [{ uri: { prefix: "/derive" } }], redirect: { derivePort: "FROM_REQUEST_PORT" } },
      ],
      tcp: [{ match: [{ port: 9080, gateways: ["mesh"] }], route: [{ destination: { host: "reviews", subset: "v1", port: { number: 9080 } }, weight: 100 }] }],
      tls: [
        {
          match: [{ port: 9080, gateways: ["mesh"], sniHosts: ["reviews"] }],
          route: [{ destination: { host: "reviews", subset: "v1", port: { number: 9080 } }, weight: 100 }],
        },
      ],
    },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "Sidecar",
    namespace: "istio-system",
    name: "default",
    labels: {},
    spec: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "Sidecar",
    namespace: "istio-system",
    name: "selected",
    labels: {},
    spec: { workloadSelector: { labels: { app: "reviews" } } },
  },
  {
    apiVersion: "istio.alibabacloud.com/v1beta1",
    kind: "ASMLocalRateLimiter",
    namespace: "default",
    name: "limit",
    labels: {},
    spec: {
      workloadSelector: { labels: { version: "v1" } },
      isGateway: false,
      configs: [{ match: { vhost: { name: "*", port: 9080 } }, limit: { fill_interval: { seconds: 1 }, quota: 10, per_downstream_connection: false } }],
    },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    namespace: "default",
    name: "reviews",
    labels: {},
    spec: {
      hosts: ["reviews"],
      http: [
        {
          name: "by-path",
          match: [{ uri: { exact: "/a" } }, { uri: { prefix: "/b" } }, { uri: { regex: "/c.*" } }],
          route: [{ destination: { host: "reviews", subset: "v1", port: { number: 9080 } }, weight: 100 }],
          timeout: "2s",
          retries: { attempts: 2, perTryTimeout: "1s", retryOn: "unavailable" },
          fault: { abort: { percentage: { value: 10 }, grpcStatus: "UNAVAILABLE" }, delay: { percentage: { value: 5 }, fixedDelay: "10ms" } },
        },
        {
          match: [{ headers: { a: { exact: "1" }, b: { prefix: "2" }, c: { regex: "3.*" } } }],
          route: [{ destination: { host: "reviews", subset: "v2" } }],
          fault: { abort: { percentage: { value: 1 }, httpStatus: 503 } },
        },
      ],
    },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    namespace: "default",
    name: "reviews",
    labels: {},
    spec: {
      host: "reviews",
      trafficPolicy: {
        loadBalancer: { simple: "LEAST_REQUEST" },
        outlierDetection: { consecutive5xxErrors: 3, interval: "1s", baseEjectionTime: "10s", maxEjectionPercent: 50 },
        connectionPool: { http: { http2MaxRequests: 100 } },
        tls: { mode: "ISTIO_MUTUAL" },
      },
      subsets: [
        { name: "v1", labels: { version: "v1" }, trafficPolicy: { loadBalancer: { consistentHash: {} }, outlierDetection: { consecutiveGatewayErrors: 2 } } },
        {
          name: "v2",
          labels: { version: "v2" },
          trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" }, connectionPool: { http: { http2MaxRequests: 5 } } },
        },
      ],
    },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    namespace: "default",
    name: "ratings",
    labels: {},
    spec: { host: "ratings", trafficPolicy: { loadBalancer: { consistentHash: {} }, outlierDetection: { consecutiveGatewayErrors: 1 } } },
  },
  { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", namespace: "default", name: "strict", labels: {}, spec: { mtls: { mode: "STRICT" } } },
  {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    namespace: "default",
    name: "one",
    labels: {},
    spec: { selector: { matchLabels: { app: "x" } }, mtls: { mode: "DISABLE" } },
  },
];

function modelOf(objects: ConfigObject[], wrap?: (o: ConfigObject) => Record<string, unknown>): MeshModel {
  const model = new MeshModel();
  model.upsert("s1", service("reviews", [{ name: "grpc", port: 9080, protocol: "GRPC" }]) as never);
  model.upsert("s2", service("ratings", [{ name: "http", port: 8080, protocol: "HTTP" }]) as never);
  model.upsert("s3", service("mongo", [{ name: "tcp-mongo", port: 9080, protocol: "TCP" }]) as never);
  objects.forEach((o, i) => {
    model.upsertConfig(`c${i}`, { kind: o.kind, namespace: o.namespace, name: o.name, spec: wrap ? wrap(o) : o.spec });
  });
  return model;
}

const views = [
  { flavour: "grpc" as const, network: "", inbound: [] },
  { flavour: "envoy" as const, network: "", inbound: [{ port: 9080, protocol: "GRPC", namespace: "default", labels: { app: "reviews", version: "v1" } }] },
];

/** The corpus files' objects too (every kind, the reference docs' fields), so every honoured field is exercised. */
const FILE_CORPUS: ConfigObject[] = ["networking.yaml", "security.yaml", "gateway-asm.yaml"].flatMap((f) =>
  parseManifests(readFileSync(fileURLToPath(new URL(`./corpus/${f}`, import.meta.url)), "utf8"), f).docs.map((d) => {
    const m = d.object.metadata as { name: string; namespace?: string };
    return {
      apiVersion: String(d.object.apiVersion),
      kind: String(d.object.kind) as ConfigObject["kind"],
      namespace: m.namespace ?? "default",
      name: m.name,
      labels: {},
      spec: d.object.spec as Record<string, unknown>,
    };
  }),
);

/** A plausible value for a declared leaf field, by its name (durations, switches, counts, names). */
function leafValue(field: string): unknown {
  if (/Timeout|Interval|interval|Time$|time$|ttl|maxAge|Duration|fixedDelay|fill_interval|baseInterval|maxInterval|warmup/i.test(field)) return "1s";
  if (
    /^(insecureSkipVerify|useSourceIp|allowCredentials|isGateway|per_downstream_connection|retryRemoteLocalities|retryIgnorePreviousHosts|splitExternalLocalOriginErrors|enabled)$/.test(
      field,
    )
  )
    return true;
  if (/mode$/.test(field)) return field === "mode" ? "ISTIO_MUTUAL" : "x";
  if (/simple$/.test(field)) return "LEAST_REQUEST";
  if (/^(port|number)$/.test(field)) return 9080;
  if (/(Errors|Percent|Size|Requests|Connections|Retries|attempts|quota|weight|value|Connection|probes|tableSize|redirectCode)$/i.test(field)) return 1;
  return "x";
}

/** An object holding one declared field (`a.b[].c.*`), for the kinds whose fields refuse each other. */
function specWith(pattern: string): Record<string, unknown> {
  const tlsMode = /clientCertificate|privateKey/.test(pattern) ? "MUTUAL" : "SIMPLE";
  const segs = pattern.split(".").slice(1);
  const build = (i: number): unknown => {
    if (i === segs.length) return leafValue(segs[i - 1] as string);
    const seg = segs[i] as string;
    const list = seg.endsWith("[]");
    const key = seg === "*" ? "k" : list ? seg.slice(0, -2) : seg;
    if (seg === "**") return {};
    const child = i + 1 === segs.length && list ? leafValue(key) : build(i + 1);
    return { [key]: list ? [child] : child };
  };
  const spec = build(0) as Record<string, unknown>;
  // What makes the field count: a TLS setting under an originating mode, a port-level setting on the service's port.
  const fix = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) fix(x);
      return;
    }
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (o.tls && typeof o.tls === "object" && !(o.tls as Record<string, unknown>).mode) (o.tls as Record<string, unknown>).mode = tlsMode;
    if (Array.isArray(o.portLevelSettings))
      for (const p of o.portLevelSettings) if (p && typeof p === "object") (p as Record<string, unknown>).port ??= { number: 9080 };
    for (const k of ["tcp", "tls"])
      if (Array.isArray(o[k]))
        for (const r of o[k] as unknown[]) if (r && typeof r === "object") (r as Record<string, unknown>).route ??= [{ destination: { host: "mongo" } }];
    for (const x of Object.values(o)) fix(x);
  };
  fix(spec);
  return spec;
}

const GENERATED: ConfigObject[] = (["DestinationRule", "VirtualService"] as const).flatMap((kind) =>
  (CONFIG_PUSH_SUPPORT[kind]?.fields ?? []).map((f, i) => {
    const spec = specWith(f);
    const base = kind === "DestinationRule" ? { host: "reviews", ...spec } : { hosts: ["reviews", "mongo"], ...spec };
    return { apiVersion: "networking.istio.io/v1", kind, namespace: "default", name: `gen-${i}`, labels: {}, spec: base };
  }),
);

describe("the honoured-fields table (CONFIG_PUSH_SUPPORT) and the translation cannot drift apart", () => {
  const reads = new Map<string, Set<string>>();
  // Each object alone with the mesh's services (one VirtualService per host is used), in the services' namespace.
  for (const o of [...CORPUS, ...FILE_CORPUS, ...GENERATED]) {
    const model = modelOf([{ ...o, namespace: o.kind === "Sidecar" ? o.namespace : "default" }], (x) => {
      const set = reads.get(x.kind) ?? new Set<string>();
      reads.set(x.kind, set);
      return recordReads(x.spec, set, ["spec"]);
    });
    for (const v of views) translate(model, v);
  }

  it.each(Object.keys(CONFIG_PUSH_SUPPORT))("%s: every field the translation reads is declared, and every declared field is read", (kind) => {
    const support = CONFIG_PUSH_SUPPORT[kind as keyof typeof CONFIG_PUSH_SUPPORT];
    if (!support) throw new Error(kind);
    const drift = supportDrift(reads.get(kind) ?? [], support);
    expect(drift.undeclared.join("\n"), "read by the translation but not declared").toBe("");
    expect(drift.unread.join("\n"), "declared but never read by the translation").toBe("");
  });

  it("the check itself fails on a field read but not declared, and on one declared but not read", () => {
    const drift = supportDrift(["spec.hosts[]", "spec.http[]", "spec.http[].mirror"], { fields: ["spec.hosts[]", "spec.http[]", "spec.tcp[]"] });
    expect(drift).toEqual({ undeclared: ["spec.http[].mirror"], unread: ["spec.tcp[]"] });
  });

  it("admission reports exactly what the table does not honour: unsupported fields and values, guarded objects", () => {
    const msgs = unsupportedFields(
      {
        spec: {
          hosts: ["a"],
          http: [{ route: [{ destination: { host: "a" } }], directResponse: { status: 418 }, delegate: { name: "d" } }],
          exportTo: ["."],
        },
      },
      CONFIG_PUSH_SUPPORT.VirtualService as never,
      "VirtualService default/a",
    );
    expect(msgs.map((m) => m.path)).toEqual(["spec.http[0].directResponse", "spec.http[0].delegate", "spec.exportTo"]);
    const dr = unsupportedFields(
      { spec: { host: "a", trafficPolicy: { loadBalancer: { simple: "PASSTHROUGH" }, proxyProtocol: { version: "V1" } } } },
      CONFIG_PUSH_SUPPORT.DestinationRule as never,
      "DestinationRule default/a",
    );
    expect(dr.map((m) => [m.name, m.path])).toEqual([
      ["UnsupportedValue", "spec.trafficPolicy.loadBalancer.simple"],
      ["UnsupportedField", "spec.trafficPolicy.proxyProtocol"],
    ]);
    const pa = unsupportedFields(
      { spec: { selector: { matchLabels: { app: "x" } }, mtls: { mode: "STRICT" } } },
      CONFIG_PUSH_SUPPORT.PeerAuthentication as never,
      "pa",
    );
    expect(pa.map((m) => m.message)).toEqual([expect.stringMatching(/spec\.selector: workload-level PeerAuthentication is not applied yet/)]);
  });
});

/** Every path of a JSON value, for mutation. */
function paths(v: unknown, base: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== "object") return [base];
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return [base, ...entries.flatMap(([k, x]) => paths(x, [...base, k]))];
}

function mutate(obj: ConfigObject, path: Array<string | number>, op: "drop" | "set", value: unknown): ConfigObject {
  const copy = structuredClone(obj);
  if (!path.length)
    return { ...copy, spec: (op === "set" && value && typeof value === "object" && !Array.isArray(value) ? value : {}) as Record<string, unknown> };
  let cur: Record<string | number, unknown> = copy.spec as Record<string, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (op === "drop") {
    if (Array.isArray(cur) && typeof last === "number") cur.splice(last, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

describe("a bad object never takes the translation down (property)", () => {
  it("mutated resources (fields dropped, retyped, revalued): translate and admission never throw, other hosts still get routes", async () => {
    const anyJson = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -5, max: 1e6 }),
      fc.double(),
      fc.string(),
      fc.constantFrom("", "soon", "(", "-1s", "*", "RANDOM", "STRICT", "reviews", "a.b.c"),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(CORPUS.length - 1), fc.nat(1000), fc.constantFrom("drop", "set"), anyJson, async (which, at, op, value) => {
        const base = CORPUS[which] as ConfigObject;
        const ps = paths(base.spec);
        const mutated = mutate(base, ps[at % ps.length] as Array<string | number>, op as "drop" | "set", value);
        const model = modelOf([mutated, ...CORPUS.filter((_, i) => i !== which)]);
        for (const v of views) {
          const out = translate(model, v);
          expect(out.size).toBeGreaterThan(0);
        }
        // The other service keeps being served whatever the mutated object says.
        const grpc = translate(model, views[0]);
        expect([...(grpc.get("type.googleapis.com/envoy.config.cluster.v3.Cluster")?.keys() ?? [])].some((n) => n.includes("ratings"))).toBe(true);
        const a = await admit(
          { apiVersion: mutated.apiVersion, kind: mutated.kind, metadata: { name: mutated.name, namespace: mutated.namespace }, spec: mutated.spec },
          { support: CONFIG_PUSH_SUPPORT },
        );
        expect(Array.isArray(a.messages)).toBe(true);
      }),
      { seed: 1101, numRuns: 400 },
    );
  });
});
