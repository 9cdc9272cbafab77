/**
 * What the console's backend sends the browser: entities of the mesh's read model, keyed by
 * their event subject, and the live event feed. Shared by the backend and the UI, so this
 * module (like every module the UI imports from domain/) imports nothing at run time.
 */

export type SyncWord = "SYNCED" | "NOT SENT" | "STALE" | "NACKED";

export interface EndpointView {
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  cluster: string;
  network: string;
  locality: { region: string; zone: string; subzone?: string };
  labels: Record<string, string>;
  pod?: string;
}

export interface Counts {
  ready: number;
  notReady: number;
  terminating: number;
}

interface Base {
  /** The entity's subject on its stream: its identity. */
  key: string;
  /** When its current state was published (the event's time). */
  time: string;
  /** Who published it (the event's source). */
  source: string;
  seq: number;
}

export type Entity =
  | (Base & {
      kind: "cluster";
      cluster: string;
      mode: "managed" | "discovery-only" | "remote-control-plane";
      network: string;
      region: string;
      zone: string;
      state: string;
      since: string;
      lastError?: string;
    })
  | (Base & {
      kind: "service";
      cluster: string;
      namespace: string;
      name: string;
      hostname: string;
      ports: Array<{ name: string; port: number; protocol: string }>;
      endpoints: EndpointView[];
      counts: Counts;
      stale: boolean;
    })
  | (Base & { kind: "gateway"; network: string; addresses: Array<{ address: string; port: number }> })
  | (Base & {
      kind: "config";
      resourceKind: string;
      namespace: string;
      name: string;
      apiVersion: string;
      generation?: number;
      labels: Record<string, string>;
      spec: Record<string, unknown>;
    })
  | (Base & {
      kind: "proxy";
      proxyId: string;
      instance: string;
      connected: boolean;
      since: string;
      /** Per xDS column (CDS, LDS, EDS, RDS): the word `isthmus proxy-status` prints, and the NACK reason. */
      sync: Record<string, { state: SyncWord; error?: string }>;
      /** From the Istio node id `sidecar~<ip>~<pod>.<ns>~...`; empty when the id has another shape. */
      ip: string;
      pod: string;
      namespace: string;
    })
  | (Base & { kind: "trust-bundle"; trustDomain: string; roots: CertSummary[]; version: number })
  | (Base & { kind: "intermediate"; mesh: string; serial: string; notAfter: string; rootFingerprint: string; cert: CertSummary })
  | (Base & {
      kind: "certificate";
      serial: string;
      spiffeId: string;
      notBefore: string;
      notAfter: string;
      issuer: string;
      requester: string;
      cluster?: string;
      revoked?: { reason: string; revokedAt: string };
    })
  | (Base & {
      kind: "pvl";
      name: string;
      status: string;
      /** With the seed's troubleshooting fix for the condition's reason, where it has one. */
      conditions: Array<{ type: string; status: string; reason: string; message: string; lastTransitionTime: string; fix?: string }>;
      resourceStatus: Record<string, unknown>;
    });

export type EntityKind = Entity["kind"];

/** A certificate as the browser sees it: parsed fields and the public PEM, never a key. */
export interface CertSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  pem: string;
}

/** One event of the live feed. `key` names the entity it changes (absent for what the console does not model). */
export interface FeedEvent {
  stream: string;
  seq: number;
  subject: string;
  domain: string;
  type: string;
  time: string;
  source: string;
  deleted: boolean;
  key?: string;
  /** Set when the event did not parse: what was wrong with it. */
  invalid?: string;
}

/** A sample of the mesh over time, taken by the console every few seconds. */
export interface Sample {
  t: number;
  connectedProxies: number;
  events: number;
  /**
   * The slowest push in the sample's window, as the console sees it: from a DISCOVERY or CONFIG
   * change arriving to a proxy's status arriving with new versions, every type SYNCED. Absent
   * when no proxy converged in the window.
   */
  pushMs?: number;
}

export interface Snapshot {
  mesh: string;
  /** False until every stream has been read up to its end once. */
  caughtUp: boolean;
  writing: boolean;
  entities: Entity[];
  feed: FeedEvent[];
  samples: Sample[];
}

/** One SSE message after the snapshot. */
export type Update =
  | { op: "put"; entity: Entity }
  | { op: "del"; key: string }
  | { op: "feed"; event: FeedEvent }
  | { op: "sample"; sample: Sample }
  | { op: "caught-up" };

/** A version of a config resource from the event log. */
export interface HistoryEntry {
  seq: number;
  time: string;
  source: string;
  deleted: boolean;
  spec?: unknown;
}
