import { kindByKey } from "./kinds.js";
import { type Message, message } from "./messages.js";
import { type ConfigObject, resourceName } from "./resource.js";
import { valuesAt } from "./validate.js";
import { hostMatches, resolveHost } from "./values.js";

/** A service the mesh knows (from discovery), for reference checks. */
export interface KnownService {
  hostname: string;
  namespace: string;
  ports: number[];
  /** The label sets of its endpoints (subsets must select some). */
  endpointLabels: Array<Record<string, string>>;
}

export interface AnalysisContext {
  services: KnownService[];
  /** Where each object came from, for messages. */
  originOf?: (o: ConfigObject) => string | undefined;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const res = (o: ConfigObject) => resourceName(kindByKey(o.kind) ?? { kind: o.kind, namespaced: true }, o.namespace, o.name);

/**
 * Cross-object analysis, as `istioctl analyze` does it: references to hosts, subsets and
 * gateways that do not exist, several VirtualServices or DestinationRules for one host and
 * how they combine, conflicting PeerAuthentications and Sidecars.
 */
export function analyze(objects: readonly ConfigObject[], ctx: AnalysisContext): Message[] {
  const out: Message[] = [];
  const origin = (o: ConfigObject) => ctx.originOf?.(o);
  const byKind = (k: string) => objects.filter((o) => o.kind === k);
  const serviceEntryHosts = byKind("ServiceEntry").flatMap((se) => ((se.spec.hosts as unknown[]) ?? []).filter((h): h is string => typeof h === "string"));
  const hostKnown = (host: string) =>
    ctx.services.some((s) => hostMatches(host, s.hostname)) || serviceEntryHosts.some((h) => hostMatches(h, host) || hostMatches(host, h));
  const drs = byKind("DestinationRule");
  const subsetsOf = (host: string) =>
    drs
      .filter((d) => {
        const h = str(d.spec.host);
        return h !== undefined && hostMatches(resolveHost(h, d.namespace), host);
      })
      .flatMap((d) => ((d.spec.subsets as Array<{ name?: string; labels?: Record<string, string> }>) ?? []).map((s) => ({ dr: d, ...s })));
  const gateways = byKind("Gateway");

  for (const vs of byKind("VirtualService")) {
    for (const { path, value } of [
      ...valuesAt(vs, "spec.http[].route[].destination"),
      ...valuesAt(vs, "spec.tcp[].route[].destination"),
      ...valuesAt(vs, "spec.tls[].route[].destination"),
    ]) {
      const d = value as { host?: unknown; subset?: unknown };
      const host = str(d.host);
      if (!host) continue;
      const fq = resolveHost(host, vs.namespace);
      if (!hostKnown(fq)) {
        out.push(message("ReferencedResourceNotFound", res(vs), `Referenced host not found: ${JSON.stringify(host)}`, `${path}.host`, origin(vs)));
        continue;
      }
      const subset = str(d.subset);
      if (subset && !subsetsOf(fq).some((s) => s.name === subset)) {
        out.push(
          message(
            "ReferencedResourceNotFound",
            res(vs),
            `Referenced host+subset in destinationrule not found: "${host}+${subset}"`,
            `${path}.subset`,
            origin(vs),
          ),
        );
      }
      const svc = ctx.services.find((s) => s.hostname === fq);
      const port = (d as { port?: { number?: unknown } }).port?.number;
      if (svc && svc.ports.length > 1 && port === undefined) {
        out.push(
          message(
            "VirtualServiceDestinationPortSelectorRequired",
            res(vs),
            `This VirtualService routes to service ${JSON.stringify(host)} that exposes multiple ports [${svc.ports.join(", ")}]; specifying a port in the destination is required`,
            path,
            origin(vs),
          ),
        );
      }
    }
    for (const { path, value } of valuesAt(vs, "spec.gateways[]")) {
      const g = str(value);
      if (!g || g === "mesh") continue;
      const [ns, name] = g.includes("/") ? (g.split("/") as [string, string]) : [vs.namespace, g];
      if (!gateways.some((x) => x.namespace === ns && x.name === name))
        out.push(message("ReferencedResourceNotFound", res(vs), `Referenced gateway not found: ${JSON.stringify(g)}`, path, origin(vs)));
    }
  }

  // Several VirtualServices for one host on the mesh (sidecars): Istio refuses to merge them (IST0109).
  const vsByHost = new Map<string, ConfigObject[]>();
  for (const vs of byKind("VirtualService")) {
    const gws = (vs.spec.gateways as string[] | undefined) ?? ["mesh"];
    if (!gws.includes("mesh")) continue;
    for (const h of (vs.spec.hosts as unknown[] | undefined) ?? []) {
      if (typeof h !== "string") continue;
      const fq = resolveHost(h, vs.namespace);
      vsByHost.set(fq, [...(vsByHost.get(fq) ?? []), vs]);
    }
  }
  for (const [host, list] of vsByHost) {
    if (list.length < 2) continue;
    const names = list.map((v) => `${v.namespace}/${v.name}`).sort();
    for (const vs of list)
      out.push(
        message(
          "ConflictingMeshGatewayVirtualServiceHosts",
          res(vs),
          `The VirtualServices ${names.join(",")} associated with mesh gateway define the same host ${JSON.stringify(host)}, which can lead to undefined behavior; merge them into one (Isthmus uses ${names[0]})`,
          "spec.hosts",
          origin(vs),
        ),
      );
  }

  const drByHost = new Map<string, ConfigObject[]>();
  for (const dr of drs) {
    const h = str(dr.spec.host);
    if (!h) continue;
    const fq = resolveHost(h, dr.namespace);
    drByHost.set(fq, [...(drByHost.get(fq) ?? []), dr]);
    if (!hostKnown(fq)) out.push(message("ReferencedResourceNotFound", res(dr), `Referenced host not found: ${JSON.stringify(h)}`, "spec.host", origin(dr)));
    const svc = ctx.services.find((s) => s.hostname === fq);
    (dr.spec.subsets as Array<{ name?: string; labels?: Record<string, string> }> | undefined)?.forEach((s, i) => {
      if (!svc || !s.labels || !Object.keys(s.labels).length) return;
      const selects = svc.endpointLabels.some((l) => Object.entries(s.labels ?? {}).every(([k, v]) => l[k] === v));
      if (!selects)
        out.push(
          message(
            "UnknownSubset",
            res(dr),
            `subset ${JSON.stringify(s.name)} selects no endpoint of ${fq} (labels ${JSON.stringify(s.labels)})`,
            `spec.subsets[${i}].labels`,
            origin(dr),
          ),
        );
    });
  }
  for (const [host, list] of drByHost) {
    if (list.length < 2) continue;
    const names = list.map((d) => `${d.namespace}/${d.name}`).sort();
    for (const dr of list)
      out.push(
        message(
          "MultipleDestinationRulesForHost",
          res(dr),
          `DestinationRules ${names.join(",")} all apply to ${JSON.stringify(host)}; Isthmus uses ${names[0]} (Istio merges them)`,
          "spec.host",
          origin(dr),
        ),
      );
  }

  // PeerAuthentication: one namespace-wide policy per namespace (and one mesh-wide in the root namespace).
  const wide = new Map<string, ConfigObject[]>();
  for (const pa of byKind("PeerAuthentication")) {
    if (pa.spec.selector) continue;
    wide.set(pa.namespace, [...(wide.get(pa.namespace) ?? []), pa]);
  }
  for (const [ns, list] of wide) {
    if (list.length < 2) continue;
    const names = list.map((p) => p.name).sort();
    for (const pa of list)
      out.push(
        message(
          "ConflictingPeerAuthentications",
          res(pa),
          `namespace ${ns} has ${list.length} PeerAuthentications without a selector (${names.join(", ")}); only one applies`,
          "spec",
          origin(pa),
        ),
      );
  }

  const sidecarsWithout = new Map<string, ConfigObject[]>();
  for (const sc of byKind("Sidecar")) {
    if (sc.spec.workloadSelector) continue;
    sidecarsWithout.set(sc.namespace, [...(sidecarsWithout.get(sc.namespace) ?? []), sc]);
  }
  for (const [ns, list] of sidecarsWithout) {
    if (list.length < 2) continue;
    for (const sc of list)
      out.push(
        message(
          "MultipleSidecarsWithoutWorkloadSelectors",
          res(sc),
          `The Sidecars ${list.map((s) => s.name).join(",")} in namespace ${ns} have no workload selector`,
          "spec",
          origin(sc),
        ),
      );
  }
  return out;
}
