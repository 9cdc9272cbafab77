import { DOMAINS, type Domain, domainFilter, streamName } from "@isthmus/events";
import { DiscardPolicy, JetStreamApiError, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/** What a stream should look like; provisioning makes the server match it. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  description?: string;
  storage: "file" | "memory";
  retention: "limits" | "interest" | "workqueue";
  replicas: number;
  /** 0 = unlimited. */
  maxAgeMs: number;
  /** History kept per subject; state streams keep a few versions for audit. */
  maxMsgsPerSubject: number;
  maxBytes: number;
  maxMsgSize: number;
  duplicateWindowMs: number;
  discard: "old" | "new";
  denyDelete: boolean;
  allowRollup: boolean;
}

/** Fields the server cannot change in place: a different value needs a new stream. */
const IMMUTABLE: ReadonlyArray<keyof StreamSpec> = ["storage", "retention"];

export class IncompatibleStreamChangeError extends Error {
  constructor(
    readonly stream: string,
    readonly field: string,
    from: unknown,
    to: unknown,
  ) {
    super(`stream ${stream}: field "${field}" cannot change from ${JSON.stringify(from)} to ${JSON.stringify(to)} in place; create a new stream and migrate`);
    this.name = "IncompatibleStreamChangeError";
  }
}

function toConfig(s: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: s.name,
    subjects: s.subjects,
    description: s.description ?? "",
    storage: s.storage === "file" ? StorageType.File : StorageType.Memory,
    retention: s.retention === "limits" ? RetentionPolicy.Limits : s.retention === "interest" ? RetentionPolicy.Interest : RetentionPolicy.Workqueue,
    num_replicas: s.replicas,
    max_age: nanos(s.maxAgeMs),
    max_msgs_per_subject: s.maxMsgsPerSubject,
    max_bytes: s.maxBytes,
    max_msg_size: s.maxMsgSize,
    duplicate_window: nanos(s.duplicateWindowMs),
    discard: s.discard === "old" ? DiscardPolicy.Old : DiscardPolicy.New,
    deny_delete: s.denyDelete,
    allow_rollup_hdrs: s.allowRollup,
  };
}

/** The spec's view of a live config, to diff field by field. */
function fromConfig(c: StreamConfig): StreamSpec {
  return {
    name: c.name,
    subjects: c.subjects ?? [],
    description: c.description ?? "",
    storage: c.storage === StorageType.File ? "file" : "memory",
    retention: c.retention === RetentionPolicy.Limits ? "limits" : c.retention === RetentionPolicy.Interest ? "interest" : "workqueue",
    replicas: c.num_replicas,
    maxAgeMs: Math.round((c.max_age ?? 0) / 1e6),
    maxMsgsPerSubject: c.max_msgs_per_subject ?? -1,
    maxBytes: c.max_bytes ?? -1,
    maxMsgSize: c.max_msg_size ?? -1,
    duplicateWindowMs: Math.round((c.duplicate_window ?? 0) / 1e6),
    discard: c.discard === DiscardPolicy.New ? "new" : "old",
    denyDelete: c.deny_delete ?? false,
    allowRollup: c.allow_rollup_hdrs ?? false,
  };
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const x = [...a].sort();
    const y = [...b].sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a === b;
}

export interface ProvisionResult {
  stream: string;
  action: "created" | "updated" | "unchanged";
  changed: string[];
}

/** Create the stream, or update it in place when every changed field allows it. Idempotent. */
export async function provisionStream(jsm: JetStreamManager, spec: StreamSpec): Promise<ProvisionResult> {
  let current: StreamConfig | undefined;
  try {
    current = (await jsm.streams.info(spec.name)).config;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === 10059)) throw err;
  }
  if (!current) {
    await jsm.streams.add(toConfig(spec));
    return { stream: spec.name, action: "created", changed: [] };
  }
  const live = fromConfig(current);
  const wanted = { ...spec, description: spec.description ?? "" };
  const changed = (Object.keys(wanted) as Array<keyof StreamSpec>).filter((k) => !same(live[k], wanted[k]));
  for (const f of changed) {
    if (IMMUTABLE.includes(f)) throw new IncompatibleStreamChangeError(spec.name, f, live[f], wanted[f]);
  }
  if (!changed.length) return { stream: spec.name, action: "unchanged", changed };
  try {
    await jsm.streams.update(spec.name, toConfig(spec));
  } catch (err) {
    // The server has the last word (e.g. a replica count the cluster cannot hold).
    throw new IncompatibleStreamChangeError(
      spec.name,
      changed.join(", "),
      changed.map((f) => live[f]),
      `${changed.map((f) => wanted[f])} (server: ${(err as Error).message})`,
    );
  }
  return { stream: spec.name, action: "updated", changed };
}

export interface MeshStreamOptions {
  replicas?: number;
  storage?: "file" | "memory";
  /** Versions kept per entity subject for audit. */
  historyPerSubject?: number;
  /** How long dead letters are kept. */
  deadLetterMaxAgeMs?: number;
}

const DAY = 86_400_000;

/**
 * One stream per domain per mesh. State streams are bounded by versions per subject,
 * never by age: the latest message of an unchanged entity must not expire. Dead letters
 * are bounded by age.
 */
export function meshStreamSpecs(mesh: string, o: MeshStreamOptions = {}): StreamSpec[] {
  return DOMAINS.map((domain: Domain) => ({
    name: streamName(mesh, domain),
    subjects: [domainFilter(mesh, domain)],
    description: `Isthmus ${domain} events of mesh ${mesh}`,
    storage: o.storage ?? "file",
    retention: "limits" as const,
    replicas: o.replicas ?? 1,
    maxAgeMs: domain === "dlq" ? (o.deadLetterMaxAgeMs ?? 14 * DAY) : 0,
    // CONFIG's history is the audit trail `isthmus config history` shows: kept longer.
    maxMsgsPerSubject: domain === "dlq" ? -1 : (o.historyPerSubject ?? (domain === "config" ? 64 : 8)),
    maxBytes: -1,
    maxMsgSize: -1,
    duplicateWindowMs: 10 * 60_000,
    discard: "old" as const,
    denyDelete: false,
    allowRollup: false,
  }));
}

export async function provisionMeshStreams(jsm: JetStreamManager, mesh: string, o: MeshStreamOptions = {}): Promise<ProvisionResult[]> {
  const out: ProvisionResult[] = [];
  for (const spec of meshStreamSpecs(mesh, o)) out.push(await provisionStream(jsm, spec));
  return out;
}
