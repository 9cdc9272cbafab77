import type { ConfigResource } from "./traffic.js";

export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

/** Istio's root namespace: a PeerAuthentication there applies to the whole mesh. */
export const ROOT_NAMESPACE = "istio-system";

/**
 * The mTLS mode of a namespace's workloads: a namespace-wide PeerAuthentication (no
 * selector) there, else the mesh-wide one in the root namespace, else PERMISSIVE.
 */
export function peerAuthenticationMode(configs: Iterable<ConfigResource>, namespace: string): MtlsMode {
  let ns: MtlsMode | undefined;
  let mesh: MtlsMode | undefined;
  for (const c of configs) {
    if (c.kind !== "PeerAuthentication" || c.spec.selector) continue;
    const mode = (c.spec.mtls as { mode?: string } | undefined)?.mode;
    if (mode !== "STRICT" && mode !== "PERMISSIVE" && mode !== "DISABLE") continue;
    if (c.namespace === namespace) ns = mode;
    else if (c.namespace === ROOT_NAMESPACE) mesh = mode;
  }
  return ns ?? mesh ?? "PERMISSIVE";
}

/**
 * Whether clients use mTLS to a host: the DestinationRule's `tls.mode` when it says
 * ISTIO_MUTUAL or DISABLE, otherwise automatically when the host's namespace is STRICT
 * (where plaintext would be refused).
 */
export function clientMtls(dr: ConfigResource | undefined, hostNamespaceMode: MtlsMode): boolean {
  const mode = (dr?.spec.trafficPolicy as { tls?: { mode?: string } } | undefined)?.tls?.mode;
  if (mode === "ISTIO_MUTUAL") return true;
  if (mode === "DISABLE" || mode === "SIMPLE" || mode === "MUTUAL") return false;
  return hostNamespaceMode === "STRICT";
}
