import { decodeToken, encodeToken } from "./subject-token.js";

/** The event domains; each is one JetStream stream per mesh. `dlq` holds dead letters. */
export const DOMAINS = ["discovery", "config", "ca", "pvl", "push", "dlq"] as const;
export type Domain = (typeof DOMAINS)[number];

export function isDomain(value: string): value is Domain {
  return (DOMAINS as readonly string[]).includes(value);
}

const MESH_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Mesh ids are DNS labels: they appear raw in subjects and stream names. */
export function assertMeshId(mesh: string): string {
  if (!MESH_ID.test(mesh)) {
    throw new Error(`invalid mesh id ${JSON.stringify(mesh)}: use a DNS label (lower-case letters, digits, '-', at most 63)`);
  }
  return mesh;
}

/** `mesh.<mesh>.<domain>.<tokens...>`, every entity token encoded. */
export function subjectFor(mesh: string, domain: Domain, ...tokens: string[]): string {
  assertMeshId(mesh);
  let s = `mesh.${mesh}.${domain}`;
  for (const t of tokens) s += `.${encodeToken(t)}`;
  return s;
}

/** Wildcard filter for a whole domain of a mesh, or a prefix of its entity tokens. */
export function domainFilter(mesh: string, domain: Domain, ...prefix: string[]): string {
  return `${subjectFor(mesh, domain, ...prefix)}.>`;
}

export interface ParsedSubject {
  mesh: string;
  domain: Domain;
  tokens: string[];
}

export function parseSubject(subject: string): ParsedSubject {
  const parts = subject.split(".");
  const [root, mesh, domain, ...rest] = parts;
  if (root !== "mesh" || mesh === undefined || domain === undefined) {
    throw new Error(`not an Isthmus subject: ${JSON.stringify(subject)}`);
  }
  assertMeshId(mesh);
  if (!isDomain(domain)) throw new Error(`unknown domain ${JSON.stringify(domain)} in ${JSON.stringify(subject)}`);
  return { mesh, domain, tokens: rest.map(decodeToken) };
}

/** JetStream stream names: one per domain per mesh, e.g. `DISCOVERY_mesh-1`. */
export function streamName(mesh: string, domain: Domain): string {
  return `${domain.toUpperCase()}_${assertMeshId(mesh)}`;
}
