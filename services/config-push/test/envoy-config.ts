import { expectValidXds } from "@isthmus/testing";
import { type AnyMessage, fromAny } from "@isthmus/xds";
import { type ConfigProblem, MeshModel, translate, type View } from "../src/index.js";

type Obj = Record<string, unknown>;

/** A resource decoded with nested Any values too, as `{ "@type", ...fields }`; zero numbers dropped (proto3 reads them as unset). */
export function decoded(any: AnyMessage): Obj {
  return readable(fromAny(any)) as Obj;
}

function readable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(readable);
  if (v && typeof v === "object" && !Buffer.isBuffer(v)) {
    const o = v as Obj;
    if (typeof o.type_url === "string" && Buffer.isBuffer(o.value)) return { "@type": o.type_url.replace(/^.*\//, ""), ...decoded(o as unknown as AnyMessage) };
    return Object.fromEntries(
      Object.entries(o)
        .filter(([, x]) => x !== 0 && x !== "0")
        .map(([k, x]) => [k, readable(x)]),
    );
  }
  return v;
}

/** One view's translation, checked against Envoy's constraints, with its resources by type and name (decoded) and its problems. */
export function translated(model: MeshModel, view: View) {
  const problems: ConfigProblem[] = [];
  const out = translate(model, view, problems);
  expectValidXds(out);
  return {
    problems,
    names: (type: string) => [...(out.get(type as never)?.keys() ?? [])].sort(),
    get(type: string, name: string): Obj {
      const r = out.get(type as never)?.get(name);
      if (!r) throw new Error(`no ${type.replace(/^.*\./, "")} ${name} (have ${[...(out.get(type as never)?.keys() ?? [])].join(", ")})`);
      return decoded(r.build());
    },
  };
}

export const REVIEWS = "reviews.default.svc.cluster.local";

/** A mesh of one HTTP service, reviews:9080 in namespace default (no endpoints), and these configs (named c0, c1, ...). */
export function reviewsMesh(configs: Array<{ kind: string; spec: Obj }> = []): MeshModel {
  const m = new MeshModel();
  m.upsert("reviews", {
    cluster: "c1",
    namespace: "default",
    name: "reviews",
    hostname: REVIEWS,
    ports: [{ name: "http", port: 9080, protocol: "HTTP" }],
    endpoints: [],
    stale: false,
  });
  for (const [i, c] of configs.entries()) m.upsertConfig(`c${i}`, { kind: c.kind, namespace: "default", name: `c${i}`, spec: c.spec });
  return m;
}

const MAX_UINT32 = 4294967295;
/** Istio's circuit breakers when no DestinationRule sets them: opened up (Envoy's are 1,024 / 1,024 / 1,024 / 3). */
export const OPEN_CIRCUIT_BREAKER = {
  max_connections: { value: MAX_UINT32 },
  max_pending_requests: { value: MAX_UINT32 },
  max_requests: { value: MAX_UINT32 },
  max_retries: { value: MAX_UINT32 },
  track_remaining: true,
};
