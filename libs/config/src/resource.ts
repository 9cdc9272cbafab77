import type { ConfigKindKey } from "@isthmus/events";
import type { KindInfo } from "./kinds.js";

/** One admitted configuration object, as it travels on the CONFIG stream. */
export interface ConfigObject {
  apiVersion: string;
  kind: ConfigKindKey;
  /** Empty for cluster-scoped kinds. */
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  spec: Record<string, unknown>;
  generation?: number;
}

export function resourceName(info: Pick<KindInfo, "kind" | "namespaced">, namespace: string, name: string): string {
  return info.namespaced ? `${info.kind} ${namespace}/${name}` : `${info.kind} ${name}`;
}

/** `kind/namespace/name`: the identity of an object across sources. */
export function objectKey(o: { kind: string; namespace: string; name: string }): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}
