import type { CloudResource } from "../adapters/provider.js";
import type { DesiredResource } from "./plan.js";
import type { PvlEndpointStatus, PvlServiceStatus, PvlSpec, PvlStatus } from "./spec.js";

const endpointStatus = (r: CloudResource | undefined): PvlEndpointStatus | undefined =>
  r ? { connectionStatus: r.connectionStatus ?? "", domainName: r.domainName ?? "", id: r.id, status: r.status } : undefined;
const serviceStatus = (r: CloudResource | undefined): PvlServiceStatus | undefined => (r ? { id: r.id, name: r.name ?? "", status: r.status } : undefined);

/** Seed 004's status block from what exists in the cloud. */
export function composeStatus(spec: PvlSpec, byKey: Map<string, CloudResource>, desired: DesiredResource[]): PvlStatus {
  const ep = (key: string) => byKey.get(`endpoint:${key}`);
  const svc = (key: string) => byKey.get(`service:${key}`);
  const clusters = spec.ackVpcEndpoint.map((e) => {
    const c: NonNullable<PvlStatus["clusters"]>[number] = { clusterId: e.clusterId };
    const pe = endpointStatus(ep(`apiserver/${e.clusterId}`));
    const ps = serviceStatus(svc(`apiserver/${e.clusterId}`));
    if (pe) c.pvlEndpoint = pe;
    if (ps) c.pvlEndpointService = ps;
    return c;
  });
  const pilotClusters = spec.ackVpcEndpoint.map((e) => {
    const c: { clusterId: string; pvlEndpoint?: PvlEndpointStatus } = { clusterId: e.clusterId };
    const pe = endpointStatus(ep(`pilot/${e.clusterId}`));
    if (pe) c.pvlEndpoint = pe;
    return c;
  });
  const pilot: NonNullable<PvlStatus["pilot"]> = { clusters: pilotClusters };
  const pilotService = serviceStatus(svc("pilot"));
  if (pilotService) pilot.pvlEndpointService = pilotService;
  const ready = desired.every((d) => {
    const r = byKey.get(`${d.kind}:${d.key}`);
    return r && r.status === "Active" && (d.kind === "service" || r.connectionStatus === "Connected");
  });
  return { clusters, pilot, status: ready ? "Available" : "Provisioning" };
}
