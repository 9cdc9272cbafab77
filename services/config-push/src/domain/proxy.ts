/** What config-push knows about a connected proxy, from its xDS node and (with TLS) its certificate. */
export interface ProxyInfo {
  id: string;
  /** Proxyless gRPC (api_listener, certificate providers) or an Envoy sidecar (listeners, SDS). */
  flavour: "grpc" | "envoy";
  ip?: string;
  pod?: string;
  namespace?: string;
  network: string;
  mesh?: string;
}

export interface XdsNode {
  id?: string;
  user_agent_name?: string;
  metadata?: { fields?: Record<string, { string_value?: string; stringValue?: string } | undefined> } | null;
}

function metadataString(node: XdsNode, key: string): string | undefined {
  const f = node.metadata?.fields?.[key];
  const v = f?.string_value ?? f?.stringValue;
  return v === undefined || v === "" ? undefined : v;
}

/**
 * Istio's node id `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`; metadata
 * NETWORK, MESH_ID and GENERATOR ("grpc" for proxyless) as istio-agent sets them. gRPC
 * clients are also recognised by their user agent.
 */
export function parseNode(node: XdsNode | undefined): ProxyInfo {
  const id = node?.id || "unknown";
  const parts = id.split("~");
  const info: ProxyInfo = {
    id,
    flavour: metadataString(node ?? {}, "GENERATOR") === "grpc" || /grpc/i.test(node?.user_agent_name ?? "") ? "grpc" : "envoy",
    network: (node && metadataString(node, "NETWORK")) ?? "",
  };
  if (parts.length === 4) {
    if (parts[1]) info.ip = parts[1];
    const podNs = parts[2] ?? "";
    const dot = podNs.lastIndexOf(".");
    if (dot > 0) {
      info.pod = podNs.slice(0, dot);
      info.namespace = podNs.slice(dot + 1);
    } else if (parts[3]) info.namespace = parts[3].split(".")[0];
  }
  const mesh = node && metadataString(node, "MESH_ID");
  if (mesh) info.mesh = mesh;
  return info;
}

/** A proven identity (from the proxy's client certificate) checked against what its node claims. */
export function checkProxyIdentity(
  info: ProxyInfo,
  proven: { trustDomain: string; namespace: string; serviceAccount: string } | undefined,
  served: { mesh: string; trustDomain: string },
): string | undefined {
  if (info.mesh && info.mesh !== served.mesh) return `proxy ${info.id} belongs to mesh ${info.mesh}; this control plane serves mesh ${served.mesh}`;
  if (!proven) return undefined;
  if (proven.trustDomain !== served.trustDomain) return `certificate of trust domain ${proven.trustDomain}; this control plane serves ${served.trustDomain}`;
  if (info.namespace && info.namespace !== proven.namespace)
    return `node ${info.id} claims namespace ${info.namespace} but its certificate is for namespace ${proven.namespace}`;
  return undefined;
}

/**
 * SDS names a proxy may ask for: its own workload certificate (`default`) and the roots
 * (`ROOTCA`). A name that points into another namespace (`kubernetes://<ns>/<name>`,
 * `spiffe://<td>/ns/<ns>/...`) is refused with the reason.
 */
export function authorizeSecret(name: string, namespace: string | undefined): string | undefined {
  if (name === "default" || name === "ROOTCA") return undefined;
  const ns = /^kubernetes:\/\/([^/]+)\//.exec(name)?.[1] ?? /^spiffe:\/\/[^/]+\/ns\/([^/]+)\//.exec(name)?.[1];
  if (ns && ns !== namespace) return `secret ${name} belongs to namespace ${ns}; proxy is in ${namespace ?? "no namespace"}`;
  return `secret ${name} is not served (only default and ROOTCA)`;
}
