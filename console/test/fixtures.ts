import { buildEvent, type CloudEvent, clusterStatusV1, configResourceV1, networkGatewayV1, proxyStatusV1, serviceStateV1 } from "@isthmus/events";
import type { Incoming } from "../src/domain/read-model.js";

const CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
const RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
export const XDS = { CDS, LDS, EDS, RDS };

export function cluster(mesh: string, id: string, mode: "managed" | "discovery-only" | "remote-control-plane", network: string) {
  return buildEvent(
    clusterStatusV1,
    mesh,
    { cluster: id, mode, network, region: "local", zone: `zone-${id}`, state: "Synced", since: "2026-01-01T00:00:00Z" },
    { source: "discovery" },
  );
}

export function service(mesh: string, clusterId: string, network: string, eps: Array<{ ip: string; version: string; ready?: boolean; terminating?: boolean }>) {
  return buildEvent(
    serviceStateV1,
    mesh,
    {
      cluster: clusterId,
      namespace: "default",
      name: "helloworld",
      hostname: "helloworld.default.svc.cluster.local",
      ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
      endpoints: eps.map((e) => ({
        address: e.ip,
        ports: { grpc: 5000 },
        ready: e.ready ?? true,
        serving: e.ready ?? true,
        terminating: e.terminating ?? false,
        cluster: clusterId,
        network,
        locality: { region: "local", zone: "z", subzone: "" },
        labels: { app: "helloworld", version: e.version },
      })),
      stale: false,
    },
    { source: "discovery" },
  );
}

export function gateway(mesh: string, network: string) {
  return buildEvent(networkGatewayV1, mesh, { network, addresses: [{ address: "192.0.2.10", port: 15443 }] }, { source: "discovery" });
}

export function proxy(mesh: string, ip: string, o: { nack?: string; version?: string } = {}) {
  const v = o.version ?? "v7";
  const types = {
    [CDS]: { latest: v, sent: v, acked: v },
    [LDS]: o.nack ? { latest: v, sent: v, acked: "v6", nacked: v, error: o.nack } : { latest: v, sent: v, acked: v },
    [EDS]: { latest: v, sent: v, acked: v },
    [RDS]: { latest: v, sent: v, acked: v },
  };
  return buildEvent(
    proxyStatusV1,
    mesh,
    { proxyId: `sidecar~${ip}~sleep-1.default~default.svc.cluster.local`, instance: "config-push-0", connected: true, since: "2026-01-01T00:00:00Z", types },
    { source: "config-push" },
  );
}

/** helloworld split between subsets v1 and v2 (or, `subsets: false`, twice to the whole service). */
export function virtualService(mesh: string, weights: [number, number], o: { subsets?: boolean } = {}) {
  const to = (subset: string) => (o.subsets === false ? { host: "helloworld" } : { host: "helloworld", subset });
  return buildEvent(
    configResourceV1,
    mesh,
    {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      namespace: "default",
      name: "helloworld",
      labels: {},
      spec: {
        hosts: ["helloworld"],
        http: [
          {
            name: "split",
            retries: { attempts: 3 },
            route: [
              { destination: to("v1"), weight: weights[0] },
              { destination: to("v2"), weight: weights[1] },
            ],
          },
        ],
      },
    },
    { source: "isthmus-cli" },
  );
}

export function destinationRule(mesh: string) {
  return buildEvent(
    configResourceV1,
    mesh,
    {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      namespace: "default",
      name: "helloworld",
      labels: {},
      spec: {
        host: "helloworld.default.svc.cluster.local",
        trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } },
        subsets: [
          { name: "v1", labels: { version: "v1" } },
          { name: "v2", labels: { version: "v2" }, trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } } } },
        ],
      },
    },
    { source: "isthmus-cli" },
  );
}

let seq = 0;
/** An event as the stream follower hands it to the read model. */
export function incoming(b: { subject: string; event: CloudEvent }, stream = "S"): Incoming {
  return { kind: "state", stream, subject: b.subject, seq: ++seq, type: b.event.type, time: b.event.time, source: b.event.source, data: b.event.data };
}
