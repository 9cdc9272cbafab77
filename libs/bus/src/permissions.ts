import type { Domain } from "@isthmus/events";

/** The identities that connect to a mesh's NATS, each with its own credentials. */
export const SERVICE_USERS = ["discovery", "config-push", "cert-authority", "pvl-manager", "isthmus-cli", "console"] as const;
export type ServiceUser = (typeof SERVICE_USERS)[number];

/** Which event domains each service owns (publishes). */
export const DOMAINS_OWNED: Record<ServiceUser, Domain[]> = {
  discovery: ["discovery"],
  "config-push": ["push", "config"],
  "cert-authority": ["ca"],
  "pvl-manager": ["pvl"],
  "isthmus-cli": [],
  console: [],
};

/**
 * What each service reads, as (domain, entity prefix) filters: it may create consumers only
 * filtered within these. The operator (`isthmus-cli`) reads everything.
 */
export const READS: Record<Exclude<ServiceUser, "isthmus-cli">, Array<{ domain: Domain; entity?: string }>> = {
  discovery: [{ domain: "discovery" }],
  "config-push": [{ domain: "discovery" }, { domain: "config" }, { domain: "ca", entity: "trust-bundle" }],
  "cert-authority": [],
  "pvl-manager": [],
  // The web console reads every state stream and publishes nothing, not even dead letters.
  console: [{ domain: "discovery" }, { domain: "config" }, { domain: "ca" }, { domain: "pvl" }, { domain: "push" }],
};

/** The operator identity: provisions streams and consumers (`isthmus nats provision`), the only one that may. */
export const OPERATOR_USER: ServiceUser = "isthmus-cli";

/**
 * A service's durable consumers are named after its user: permission subjects match whole
 * tokens, so this is what lets the server tell one service's durables from another's.
 */
export const durableNameFor = (user: ServiceUser): string => user;

/** Replies to a user's requests (JetStream API answers, pulled messages) arrive under this prefix only. */
export const inboxPrefixFor = (user: string): string => `_INBOX_${user}`;

export interface SubjectPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** May answer the requests it receives (the CA's RPC), once each. */
  allowResponses?: boolean;
}

const filterOf = (mesh: string, r: { domain: Domain; entity?: string }) => `mesh.${mesh}.${r.domain}.${r.entity ? `${r.entity}.` : ""}>`;

/**
 * NATS permissions for one service in one mesh (or every mesh with `*`). A service publishes
 * only its own domains' subjects and dead letters; it may read stream info and create
 * consumers only filtered to what it reads (`$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`:
 * nats-server 2.9 refuses a request whose filter differs from the subject's); it cannot
 * create, update, delete or purge a stream, delete a consumer, or create one without a
 * filter (`CONSUMER.CREATE.<stream>`, `CONSUMER.DURABLE.CREATE.…` carry none), nor pull
 * from or acknowledge another service's durables. Replies reach it on its own inbox prefix.
 * The stream token is `*`: the filter already names mesh and domain, and mirrors (a remote
 * control plane's `HUB_…`) hold the same subjects.
 */
export function servicePermissions(user: ServiceUser, mesh = "*"): SubjectPermissions {
  if (user === "isthmus-cli") return { publish: { allow: [">"] }, subscribe: { allow: [">"] } };
  const reads = READS[user];
  const own = durableNameFor(user);
  const deadLetters = user === "console" ? [] : [`mesh.${mesh}.dlq.>`];
  const publish = [...DOMAINS_OWNED[user].map((d) => `mesh.${mesh}.${d}.>`), ...deadLetters, "$JS.API.INFO", "$JS.API.STREAM.INFO.*"];
  const deny: string[] = [];
  if (reads.length) {
    for (const r of reads) publish.push(`$JS.API.CONSUMER.CREATE.*.*.${filterOf(mesh, r)}`);
    publish.push("$JS.API.CONSUMER.INFO.*.*", "$JS.API.CONSUMER.MSG.NEXT.*.*", `$JS.ACK.*.${own}.>`);
    for (const other of SERVICE_USERS) {
      if (other === user) continue;
      const name = durableNameFor(other);
      deny.push(`$JS.API.CONSUMER.CREATE.*.${name}.>`, `$JS.API.CONSUMER.MSG.NEXT.*.${name}`);
    }
  }
  const subscribe = [`${inboxPrefixFor(user)}.>`];
  const p: SubjectPermissions = { publish: { allow: publish, ...(deny.length ? { deny } : {}) }, subscribe: { allow: subscribe } };
  if (user === "cert-authority") {
    subscribe.push(`isthmus.rpc.${mesh}.ca.>`);
    p.allowResponses = true;
  }
  return p;
}

export interface NatsUser {
  user: ServiceUser;
  /** The password, or the environment variable the server reads it from (`$VAR` in its config). */
  password: string | { env: string };
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: string[]) => `[${xs.map(q).join(", ")}]`;

/**
 * The `authorization` block of a nats-server config: one user per service with its
 * permissions, nobody else (no `no_auth_user`: anonymous clients are refused).
 */
export function natsAuthorization(users: NatsUser[], mesh = "*"): string {
  const lines = users.map((u) => {
    const p = servicePermissions(u.user, mesh);
    const deny = (d: string[] | undefined) => (d?.length ? `, deny: ${list(d)}` : "");
    const password = typeof u.password === "string" ? q(u.password) : `$${u.password.env}`;
    const responses = p.allowResponses ? ", allow_responses: true" : "";
    return `    { user: ${q(u.user)}, password: ${password}, permissions: { publish: { allow: ${list(p.publish.allow)}${deny(p.publish.deny)} }, subscribe: { allow: ${list(p.subscribe.allow)}${deny(p.subscribe.deny)} }${responses} } }`;
  });
  return `authorization {\n  users: [\n${lines.join(",\n")}\n  ]\n}`;
}

/** The environment variable holding a service's NATS password (compose, Helm). */
export function passwordEnv(user: ServiceUser): string {
  return `${user.toUpperCase().replace(/-/g, "_")}_NATS_PASSWORD`;
}

/**
 * A complete nats-server config for one region's control plane: JetStream on a file store
 * with fsync on every write, monitoring for health checks, every service with its own
 * credentials (passwords from the environment), optional TLS and a leaf-node listener.
 */
export function natsServerConfig(o: {
  /** A name, or the environment variable holding it (one config for every node of a cluster). */
  serverName: string | { env: string };
  storeDir: string;
  mesh?: string;
  jsDomain?: string;
  tls?: { certFile: string; keyFile: string; caFile: string };
  leafnodePort?: number;
  /** A cluster node: routes to every node (itself included; the server skips it) on port 6222. */
  cluster?: { name: string; routes: string[] };
}): string {
  const users: NatsUser[] = SERVICE_USERS.map((user) => ({ user, password: { env: passwordEnv(user) } }));
  const lines = [
    "# Generated by `npm run gen` from libs/bus/src/permissions.ts: edit that, not this.",
    `server_name: ${typeof o.serverName === "string" ? q(o.serverName) : `$${o.serverName.env}`}`,
    'listen: "0.0.0.0:4222"',
    'http: "0.0.0.0:8222"',
    `jetstream { store_dir: ${q(o.storeDir)}, sync_interval: "always"${o.jsDomain ? `, domain: ${q(o.jsDomain)}` : ""} }`,
  ];
  if (o.tls) lines.push(`tls { cert_file: ${q(o.tls.certFile)}, key_file: ${q(o.tls.keyFile)}, ca_file: ${q(o.tls.caFile)}, verify: false }`);
  if (o.leafnodePort) lines.push(`leafnodes { listen: "0.0.0.0:${o.leafnodePort}" }`);
  if (o.cluster) lines.push(`cluster { name: ${q(o.cluster.name)}, listen: "0.0.0.0:6222", routes: ${list(o.cluster.routes)} }`);
  lines.push(natsAuthorization(users, o.mesh ?? "*"));
  return `${lines.join("\n")}\n`;
}
