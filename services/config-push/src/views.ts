import { EncodeMemo, SnapshotCache, TYPE, type TypeUrl, type Violation, validateXds } from "@isthmus/xds";
import type { MeshModel } from "./domain/mesh-model.js";
import type { ProxyInfo } from "./domain/proxy.js";
import { type ConfigProblem, DEFAULT_TRANSLATE, type HostMemo, type TranslateOptions, translate, type View, viewKey } from "./domain/translate.js";

interface Entry {
  view: View;
  cache: SnapshotCache;
  proxies: number;
}

const DEFAULT_VIEW: View = { flavour: "grpc", network: "", inbound: [] };

/**
 * One snapshot cache per view (proxy flavour, network, own workload's ports), created when
 * the first proxy of that view connects and dropped after the last one leaves. The caches
 * share one encode memo, so a resource identical across views is encoded once.
 */
export class Views {
  private readonly entries = new Map<string, Entry>();
  readonly memo = new EncodeMemo();
  /** What each host translated to per view, so an endpoint change re-translates one host, not the mesh. */
  private readonly hostMemo: HostMemo = new WeakMap();
  private built = false;
  /** Told after a rebuild which types of which cache changed. */
  onChange: (cache: SnapshotCache, types: TypeUrl[]) => void = () => {};
  /**
   * When set, every view that changed is checked against Envoy's constraints after a
   * rebuild (the whole view: references between resources are part of the check) and the
   * violations, each once, handed here. Off the push path unless asked for (VALIDATE_XDS=1).
   */
  onViolations: ((v: Violation[]) => void) | undefined;

  constructor(
    private readonly model: MeshModel,
    private readonly o: TranslateOptions = DEFAULT_TRANSLATE,
  ) {
    this.entries.set(viewKey(DEFAULT_VIEW), { view: DEFAULT_VIEW, cache: new SnapshotCache(this.memo), proxies: Number.POSITIVE_INFINITY });
  }

  /** The cache every proxyless client without a network shares (what tests and tools look at). */
  get defaultCache(): SnapshotCache {
    return (this.entries.get(viewKey(DEFAULT_VIEW)) as Entry).cache;
  }

  get size(): number {
    return this.entries.size;
  }

  viewOf(p: ProxyInfo): View {
    return { flavour: p.flavour, network: p.network, inbound: p.flavour === "envoy" ? this.model.inboundOf(p) : [] };
  }

  /** The cache for a newly connected proxy; built on the spot when its view is new. */
  acquire(p: ProxyInfo): SnapshotCache {
    const view = this.viewOf(p);
    const key = viewKey(view);
    let e = this.entries.get(key);
    if (!e) {
      e = { view, cache: new SnapshotCache(this.memo), proxies: 0 };
      this.entries.set(key, e);
      if (this.built) this.build(e, []);
    }
    e.proxies++;
    return e.cache;
  }

  release(cache: SnapshotCache): void {
    for (const [k, e] of this.entries) {
      if (e.cache !== cache) continue;
      if (--e.proxies <= 0) this.entries.delete(k);
      return;
    }
  }

  private build(e: Entry, problems: ConfigProblem[]): TypeUrl[] {
    let out: ReturnType<typeof translate>;
    try {
      out = translate(this.model, e.view, problems, this.o, this.hostMemo);
    } catch (err) {
      // The last line of defence (translation isolates each object itself): the view keeps what it serves.
      problems.push({ resource: "mesh", reason: `translation failed, the last good configuration stays: ${(err as Error)?.message ?? String(err)}` });
      return [];
    }
    const changed: TypeUrl[] = [];
    for (const [type, inputs] of out) if (e.cache.setType(type, inputs)) changed.push(type);
    return changed;
  }

  private validate(changes: Array<[SnapshotCache, TypeUrl[]]>): void {
    const seen = new Set<string>();
    const found: Violation[] = [];
    for (const [cache, types] of changes) {
      if (!types.length) continue;
      for (const v of validateXds(Object.values(TYPE).flatMap((t) => cache.get(t).map((r) => r.any)))) {
        const k = `${v.resource}|${v.path}|${v.rule}`;
        if (seen.has(k)) continue;
        seen.add(k);
        found.push(v);
      }
    }
    if (found.length) this.onViolations?.(found);
  }

  /** Rebuild every view from the model, then tell who changed. Problems are reported once, from the default view. */
  rebuild(): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const changes: Array<[SnapshotCache, TypeUrl[]]> = [];
    let first = true;
    for (const e of this.entries.values()) {
      changes.push([e.cache, this.build(e, first ? problems : [])]);
      first = false;
    }
    this.memo.sweep();
    this.built = true;
    if (this.onViolations) this.validate(changes);
    for (const [cache, types] of changes) {
      if (!types.length) continue;
      cache.publish(types);
      this.onChange(cache, types);
    }
    return problems;
  }
}
