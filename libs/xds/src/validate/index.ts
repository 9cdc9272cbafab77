import type protobuf from "protobufjs";
import { type AnyMessage, xdsRoot } from "../protos.js";
import { TYPE } from "../resources/type-urls.js";
import { checkRefs, ENVOY_RULES, type Refs, type RuleCtx } from "./envoy-rules.js";
import { type Ctx, checkMessage, planOf, typeByName } from "./pgv.js";
import type { Violation } from "./violation.js";

export { formatViolation, type Violation } from "./violation.js";

type Msg = Record<string, unknown>;

const nameOf = (typeName: string, m: Msg) => String((typeName.endsWith("ClusterLoadAssignment") ? m.cluster_name : m.name) ?? "");

/**
 * Every resource checked as Envoy would check it before accepting it: the
 * protoc-gen-validate rules of its protos (nested messages and Any values included) and the
 * Envoy code rules of ./envoy-rules.ts; then, over the set, that every route configuration
 * asked for over RDS and every secret asked for over SDS is among the resources.
 * `references: false` skips the last part, for a partial set (one proxyless client's subscription).
 */
export function validateXds(resources: Iterable<AnyMessage>, o: { references?: boolean } = {}): Violation[] {
  const root = xdsRoot();
  const out: Violation[] = [];
  const refs: Refs = { rds: [], sds: [] };
  const served = { routes: new Set<string>(), secrets: new Set<string>() };
  for (const any of resources) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    const t = typeByName(root, typeName);
    let m: Msg;
    try {
      if (!t) throw new Error(`unknown type ${any.type_url}`);
      m = t.decode(any.value) as unknown as Msg;
    } catch (err) {
      out.push({
        resource: typeName || "(no type)",
        path: "",
        rule: "any.type",
        severity: "error",
        message: `cannot be read as an xDS resource: ${(err as Error).message}`,
      });
      continue;
    }
    const resource = `${t.name} ${nameOf(typeName, m)}`;
    if (any.type_url === TYPE.route) served.routes.add(nameOf(typeName, m));
    if (any.type_url === TYPE.secret) served.secrets.add(nameOf(typeName, m));
    const rc: RuleCtx = { resource, out, refs };
    const ctx: Ctx = {
      root,
      out,
      resource,
      visit: (type, path, msg) => ENVOY_RULES.get(type)?.(rc, path, msg),
    };
    checkMessage(ctx, "", t, m);
  }
  if (o.references !== false) checkRefs(refs, served, out);
  return out;
}

/** Compiles the rules of every message type the xDS protos define: throws if one uses a rule this validator does not check. */
export function compileAllRules(): number {
  let n = 0;
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const x of ns.nestedArray) {
      if ("fieldsArray" in x) {
        planOf(x as protobuf.Type);
        n++;
      }
      if ("nestedArray" in x) walk(x as protobuf.NamespaceBase);
    }
  };
  walk(xdsRoot());
  return n;
}

const DUMP_TYPES: Record<string, [string, string, string]> = {
  ListenersConfigDump: ["dynamic_listeners", "active_state.listener", TYPE.listener],
  RoutesConfigDump: ["dynamic_route_configs", "route_config", TYPE.route],
  ClustersConfigDump: ["dynamic_active_clusters", "cluster", TYPE.cluster],
  EndpointsConfigDump: ["dynamic_endpoint_configs", "endpoint_config", TYPE.endpoint],
  SecretsConfigDump: ["dynamic_active_secrets", "secret", TYPE.secret],
};

/**
 * The resources of an Envoy-style config dump (`/debug/config_dump`: nested Any values
 * shown with "@type") back as encoded resources, for `validateXds`.
 */
export function resourcesOfConfigDump(dump: { configs?: Array<Msg & { "@type"?: string }> }): AnyMessage[] {
  const root = xdsRoot();
  const out: AnyMessage[] = [];
  for (const section of dump.configs ?? []) {
    const kind = String(section["@type"] ?? "").replace(/^.*\./, "");
    const spec = DUMP_TYPES[kind];
    if (!spec) continue;
    const [field, inner, typeUrl] = spec;
    const t = root.lookupType(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
    for (const entry of (section[field] as Msg[] | undefined) ?? []) {
      const json = inner.split(".").reduce<unknown>((v, k) => (v as Msg | undefined)?.[k], entry);
      if (!json) continue;
      out.push({ type_url: typeUrl, value: Buffer.from(t.encode(t.fromObject(json as Msg)).finish()) });
    }
  }
  return out;
}
