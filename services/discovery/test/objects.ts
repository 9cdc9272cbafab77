import type { KubeApiStandIn } from "@isthmus/testing";

/** Kubernetes objects as a cluster would hold them, for the stand-in. */
export const k8s = {
  service: (name: string, ns = "default", ports: Array<{ name: string; port: number; appProtocol?: string }> = [{ name: "grpc", port: 5000 }]) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { ports: ports.map((p) => ({ ...p, targetPort: p.port, protocol: "TCP" })) },
  }),
  node: (name: string, region: string, zone: string) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone } },
  }),
  pod: (name: string, ns: string, labels: Record<string, string>, sa: string, node: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels },
    spec: { serviceAccountName: sa, nodeName: node, containers: [] },
  }),
  slice: (
    name: string,
    svc: string,
    ns: string,
    endpoints: Array<{ ip: string; pod?: string; node?: string; ready?: boolean }>,
    port = { name: "grpc", port: 5000 },
  ) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    ports: [{ ...port, protocol: "TCP" }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
      ...(e.pod ? { targetRef: { kind: "Pod", name: e.pod, namespace: ns } } : {}),
      ...(e.node ? { nodeName: e.node } : {}),
    })),
  }),
};

/** A Deployment's worth of pods behind a service, put straight into the stand-in. */
export function deploy(api: KubeApiStandIn, o: { svc: string; ns?: string; version: string; replicas: number; subnet: string; node: string }): void {
  const ns = o.ns ?? "default";
  const eps = [];
  for (let i = 0; i < o.replicas; i++) {
    const pod = `${o.svc}-${o.version}-${i}`;
    api.apply(k8s.pod(pod, ns, { app: o.svc, version: o.version }, o.svc, o.node));
    eps.push({ ip: `${o.subnet}.${i + 1}`, pod, node: o.node });
  }
  api.apply(k8s.slice(`${o.svc}-${o.version}`, o.svc, ns, eps));
}
