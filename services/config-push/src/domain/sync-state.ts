import { TYPE_DESCRIPTORS } from "@isthmus/xds";

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

/** proxy-status columns, Istio's order (CDS LDS EDS RDS), from the one type table. */
export const TYPE_COLUMNS: Array<[string, string]> = TYPE_DESCRIPTORS.filter((d) => d.short !== "SDS").map((d) => [d.short, d.url]);
