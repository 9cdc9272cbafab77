export interface TypeStatus {
  latest?: string;
  sent?: string;
  acked?: string;
  nacked?: string;
  error?: string;
}

export type SyncState = "SYNCED" | "NOT SENT" | "STALE" | "NACKED";

/** Istio's proxy-status words: SYNCED (acked what is current), NOT SENT, STALE (sent, not acked yet / behind); NACKED added. */
export function syncState(t: TypeStatus | undefined): SyncState {
  if (!t?.sent) return "NOT SENT";
  if (t.nacked && t.nacked === t.sent) return "NACKED";
  if (t.acked === t.sent && (t.latest === undefined || t.sent === t.latest)) return "SYNCED";
  return "STALE";
}

export const TYPE_COLUMNS: Array<[string, string]> = [
  ["CDS", "type.googleapis.com/envoy.config.cluster.v3.Cluster"],
  ["LDS", "type.googleapis.com/envoy.config.listener.v3.Listener"],
  ["EDS", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"],
  ["RDS", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"],
];
