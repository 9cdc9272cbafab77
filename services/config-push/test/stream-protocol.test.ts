import {
  decodeSotwRequest,
  encodeNames,
  encodeSotwRequest,
  type ResourceInput,
  SnapshotCache,
  type SotwRequest,
  TYPE,
  type TypeUrl,
  toAny,
  xdsRoot,
} from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import {
  type AnswerState,
  DeltaStream,
  parseNode,
  RefusedRequest,
  type ResponseWriter,
  SotwStream,
  type StreamContext,
  standaloneContext,
  XDS_LIMITS,
} from "../src/index.js";

// The xDS core without the network, as go-control-plane tests its server: a fake stream
// writer, one table of cases, each run for state of the world and for delta.

type Protocol = "sotw" | "delta";

interface Sent {
  type: string;
  version: string;
  nonce: string;
  /** Names of the resources carried. */
  names: string[];
  /** Delta only: names said to be removed. */
  removed: string[];
}

const RESOURCE_TYPE: Record<string, string> = {
  [TYPE.endpoint]: "envoy.config.endpoint.v3.ClusterLoadAssignment",
  [TYPE.cluster]: "envoy.config.cluster.v3.Cluster",
  [TYPE.secret]: "envoy.extensions.transport_sockets.tls.v3.Secret",
};
const NAME_FIELD: Record<string, string> = { [TYPE.endpoint]: "cluster_name", [TYPE.cluster]: "name", [TYPE.secret]: "name" };

/** Set a type's resources in the cache: name → content (a changed content is a new version). */
function setResources(cache: SnapshotCache, type: TypeUrl, contents: Record<string, string>): void {
  const inputs = new Map<string, ResourceInput>();
  for (const [name, content] of Object.entries(contents)) {
    const msg: Record<string, unknown> = { [NAME_FIELD[type] as string]: name };
    if (type === TYPE.endpoint) msg.policy = { overprovisioning_factor: { value: content.length } };
    inputs.set(name, { hash: `${name}:${content}`, build: () => toAny(RESOURCE_TYPE[type] as string, msg) });
  }
  cache.setType(type, inputs);
}

function decodeResponse(protocol: Protocol, msg: Buffer): Sent {
  if (protocol === "sotw") {
    const t = xdsRoot().lookupType("envoy.service.discovery.v3.DiscoveryResponse");
    const r = t.toObject(t.decode(msg), { defaults: true }) as {
      version_info: string;
      nonce: string;
      type_url: string;
      resources: Array<{ value: Uint8Array; type_url: string }>;
    };
    const names = r.resources.map((a) => {
      const rt = xdsRoot().lookupType(a.type_url.replace("type.googleapis.com/", ""));
      return (rt.toObject(rt.decode(a.value)) as Record<string, string>)[NAME_FIELD[r.type_url] as string] as string;
    });
    return { type: r.type_url, version: r.version_info, nonce: r.nonce, names, removed: [] };
  }
  const t = xdsRoot().lookupType("envoy.service.discovery.v3.DeltaDiscoveryResponse");
  const r = t.toObject(t.decode(msg), { defaults: true }) as {
    system_version_info: string;
    nonce: string;
    type_url: string;
    resources: Array<{ name: string }>;
    removed_resources: string[];
  };
  return { type: r.type_url, version: r.system_version_info, nonce: r.nonce, names: r.resources.map((x) => x.name), removed: r.removed_resources };
}

const NODE = { id: "sidecar~10.0.0.1~p.default~default.svc.cluster.local" };

/** One protocol's stream behind one vocabulary: what a proxy does, what it was sent. */
class Driver {
  readonly sent: Sent[] = [];
  readonly answers: Array<{ type: string; nack: boolean }> = [];
  readonly stream: SotwStream | DeltaStream;
  /** SotW: the names the proxy currently asks for, per type (it repeats them in every request). */
  private readonly asked = new Map<string, string[]>();

  constructor(
    readonly protocol: Protocol,
    readonly cache: SnapshotCache,
    ctx: Partial<StreamContext> = {},
  ) {
    const writer: ResponseWriter = {
      write: (msg) => {
        this.sent.push(decodeResponse(protocol, msg));
        return true;
      },
      answered: () => {},
    };
    const context = standaloneContext({ ...ctx, callbacks: { answered: (_s, type, nack) => this.answers.push({ type, nack }) } });
    const who = { info: parseNode(NODE), connId: "c-1", version: "test" };
    this.stream = protocol === "sotw" ? new SotwStream(writer, who, cache, context) : new DeltaStream(writer, who, cache, context);
  }

  last(type: string): Sent | undefined {
    return this.sent.filter((s) => s.type === type).at(-1);
  }

  state(type: string): AnswerState | undefined {
    return this.stream.types.get(type);
  }

  private sotw(r: { type: string; names: string[]; nonce?: string; version?: string; error?: string }): void {
    const req: SotwRequest = decodeSotwRequest(
      encodeSotwRequest({ type_url: r.type, names: encodeNames(r.names), response_nonce: r.nonce ?? "", version_info: r.version ?? "" }),
    );
    if (r.error) req.error_detail = { code: 3, message: r.error };
    (this.stream as SotwStream).onRequest(req);
  }

  private delta(r: { type: string; subscribe?: string[]; unsubscribe?: string[]; nonce?: string; error?: string; initial?: Record<string, string> }): void {
    (this.stream as DeltaStream).onRequest({
      type_url: r.type,
      resource_names_subscribe: r.subscribe ?? [],
      resource_names_unsubscribe: r.unsubscribe ?? [],
      initial_resource_versions: r.initial ?? {},
      response_nonce: r.nonce ?? "",
      error_detail: r.error ? { message: r.error } : null,
    });
  }

  subscribe(type: string, names: string[], initial?: Record<string, string>): void {
    const all = [...(this.asked.get(type) ?? []), ...names];
    this.asked.set(type, all);
    if (this.protocol === "sotw") this.sotw({ type, names: all, nonce: this.last(type)?.nonce ?? "" });
    else this.delta({ type, subscribe: names, nonce: this.last(type)?.nonce ?? "", ...(initial ? { initial } : {}) });
  }

  unsubscribe(type: string, names: string[]): void {
    const left = (this.asked.get(type) ?? []).filter((n) => !names.includes(n));
    this.asked.set(type, left);
    if (this.protocol === "sotw") this.sotw({ type, names: left, nonce: this.last(type)?.nonce ?? "" });
    else this.delta({ type, unsubscribe: names, nonce: this.last(type)?.nonce ?? "" });
  }

  /** Answer a response (the latest of the type by default). */
  answer(type: string, o: { error?: string; response?: Sent } = {}): void {
    const r = o.response ?? this.last(type);
    if (!r) throw new Error(`nothing of ${type} to answer`);
    if (this.protocol === "sotw")
      this.sotw({ type, names: this.asked.get(type) ?? [], nonce: r.nonce, version: r.version, ...(o.error ? { error: o.error } : {}) });
    else this.delta({ type, nonce: r.nonce, ...(o.error ? { error: o.error } : {}) });
  }

  /** The push queue's turn for this stream, after the cache changed these types. */
  push(...types: TypeUrl[]): boolean {
    for (const t of types) this.stream.pending.add(t);
    return this.stream.flush();
  }
}

interface Case {
  name: string;
  /** Runs the steps and asserts; `p` says which protocol, for the few rules that differ by design. */
  run(d: Driver, p: Protocol): void;
  only?: Protocol;
}

function eds(cache: SnapshotCache, contents: Record<string, string>): void {
  setResources(cache, TYPE.endpoint, contents);
}

const CASES: Case[] = [
  {
    name: "subscribe: the subscribed resources, in one response",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a", "b"]);
      expect(d.sent).toHaveLength(1);
      expect(d.last(TYPE.endpoint)?.names.sort()).toEqual(["a", "b"]);
      expect(d.last(TYPE.endpoint)?.version).toBe(d.cache.version(TYPE.endpoint));
    },
  },
  {
    name: "ACK of the latest response: acked is what was sent, nothing more is sent, the server is told",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a"]);
      d.answer(TYPE.endpoint);
      expect(d.sent).toHaveLength(1);
      expect(d.state(TYPE.endpoint)?.acked).toBe(d.cache.version(TYPE.endpoint));
      expect(d.answers).toEqual([{ type: TYPE.endpoint, nack: false }]);
    },
  },
  {
    name: "NACK: the proxy stays on its last good version, the refused one is not sent again, the error is kept",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a"]);
      d.answer(TYPE.endpoint);
      const good = d.cache.version(TYPE.endpoint);
      eds(d.cache, { a: "2", b: "1", c: "1" });
      expect(d.push(TYPE.endpoint)).toBe(true);
      d.answer(TYPE.endpoint, { error: "bad endpoint" });
      const st = d.state(TYPE.endpoint);
      expect([st?.acked, st?.nacked, st?.error]).toEqual([good, d.cache.version(TYPE.endpoint), "bad endpoint"]);
      expect(d.answers.at(-1)).toEqual({ type: TYPE.endpoint, nack: true });
      expect(d.push(TYPE.endpoint)).toBe(false); // the same version again: not sent
      eds(d.cache, { a: "3", b: "1", c: "1" });
      expect(d.push(TYPE.endpoint)).toBe(true); // a newer one is
    },
  },
  {
    name: "an answer to an older nonce is stale: ignored whole",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a"]);
      const first = d.last(TYPE.endpoint) as Sent;
      eds(d.cache, { a: "2", b: "1", c: "1" });
      d.push(TYPE.endpoint);
      d.answer(TYPE.endpoint, { response: first });
      expect(d.answers).toEqual([]);
      expect(d.state(TYPE.endpoint)?.acked).toBeUndefined();
    },
  },
  {
    name: "resubscribe with one more name: SotW sends the new subscription's state, delta only the new resource",
    run(d, p) {
      d.subscribe(TYPE.endpoint, ["a"]);
      d.answer(TYPE.endpoint);
      d.subscribe(TYPE.endpoint, ["b"]);
      expect(d.sent).toHaveLength(2);
      expect(d.last(TYPE.endpoint)?.names.sort()).toEqual(p === "sotw" ? ["a", "b"] : ["b"]);
    },
  },
  {
    name: "a change to a resource the proxy does not subscribe to: no push",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a"]);
      d.answer(TYPE.endpoint);
      eds(d.cache, { a: "1", b: "2", c: "1" });
      expect(d.push(TYPE.endpoint)).toBe(false);
      expect(d.sent).toHaveLength(1);
    },
  },
  {
    name: "a change pushes only what changed (EDS is not full-state in SotW either)",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a", "b"]);
      d.answer(TYPE.endpoint);
      eds(d.cache, { a: "9", b: "1", c: "1" });
      expect(d.push(TYPE.endpoint)).toBe(true);
      expect(d.last(TYPE.endpoint)?.names).toEqual(["a"]);
    },
  },
  {
    name: "a removed cluster (wildcard CDS): SotW sends the state without it, delta names the removal",
    run(d, p) {
      setResources(d.cache, TYPE.cluster, { x: "1", y: "1" });
      d.subscribe(TYPE.cluster, []);
      d.answer(TYPE.cluster);
      expect(d.last(TYPE.cluster)?.names.sort()).toEqual(["x", "y"]);
      setResources(d.cache, TYPE.cluster, { x: "1" });
      expect(d.push(TYPE.cluster)).toBe(true);
      const r = d.last(TYPE.cluster);
      if (p === "sotw") expect([r?.names, r?.removed]).toEqual([["x"], []]);
      else expect([r?.names, r?.removed]).toEqual([[], ["y"]]);
    },
  },
  {
    name: "an unsubscribed name is no longer pushed",
    run(d) {
      d.subscribe(TYPE.endpoint, ["a", "b"]);
      d.answer(TYPE.endpoint);
      d.unsubscribe(TYPE.endpoint, ["b"]);
      const before = d.sent.length;
      eds(d.cache, { a: "1", b: "2", c: "1" });
      expect(d.push(TYPE.endpoint)).toBe(false);
      expect(d.sent).toHaveLength(before);
    },
  },
  {
    name: "initial_resource_versions: a reconnecting proxy gets only what differs, and the removal of what is gone",
    only: "delta",
    run(d) {
      const a = d.cache.getOne(TYPE.endpoint, "a")?.version as string;
      d.subscribe(TYPE.endpoint, ["a", "b", "z"], { a, b: "old", z: "old" });
      expect(d.sent).toHaveLength(1);
      expect([d.last(TYPE.endpoint)?.names, d.last(TYPE.endpoint)?.removed]).toEqual([["b"], ["z"]]);
    },
  },
  {
    name: "a request for a type this server does not serve is ignored",
    run(d) {
      d.subscribe("type.googleapis.com/envoy.config.nothing.v3.Nothing", ["a"]);
      expect(d.sent).toEqual([]);
    },
  },
  {
    name: "resource names over the cap are refused with the reason",
    run(d) {
      expect(() => d.subscribe(TYPE.endpoint, ["n".repeat(XDS_LIMITS.maxNameBytes + 1)])).toThrow(RefusedRequest);
      expect(d.sent).toEqual([]);
    },
  },
  {
    name: "SDS: a secret of another namespace is refused and reported, the proxy's own is served",
    run(d) {
      setResources(d.cache, TYPE.secret, { default: "1", "kubernetes://other/cert": "1" });
      d.subscribe(TYPE.secret, ["default", "kubernetes://other/cert"]);
      expect(d.last(TYPE.secret)?.names).toEqual(["default"]);
      expect(d.state(TYPE.secret)?.error).toMatch(/belongs to namespace other; proxy is in default/);
    },
  },
];

describe.each(["sotw", "delta"] as const)("xDS stream rules (%s)", (protocol) => {
  it.each(CASES.filter((c) => !c.only || c.only === protocol).map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const cache = new SnapshotCache();
    eds(cache, { a: "1", b: "1", c: "1" });
    c.run(new Driver(protocol, cache), protocol);
  });
});
