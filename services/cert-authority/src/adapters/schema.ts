import { inboxTable, outboxTable } from "@isthmus/store";
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgSchema, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const caSchema = pgSchema("cert_authority");

/** Issuing CA certificates of this mesh (intermediates); exactly one is active. Keys are wrapped by the key provider. */
export const issuers = caSchema.table(
  "issuers",
  {
    serial: text("serial").primaryKey(),
    mesh: text("mesh").notNull(),
    /** PEM: the issuing certificate, then its parents up to and including its root. */
    chainPem: text("chain_pem").notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    rootFingerprint: text("root_fingerprint").notNull(),
    notAfter: timestamp("not_after", { withTimezone: true }).notNull(),
    active: boolean("active").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("issuers_one_active").on(t.mesh).where(sql`${t.active}`)],
);

/** Roots every workload of the mesh must accept (the trust bundle). */
export const trustRoots = caSchema.table("trust_roots", {
  fingerprint: text("fingerprint").primaryKey(),
  certPem: text("cert_pem").notNull(),
  addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
  removedAt: timestamp("removed_at", { withTimezone: true }),
});

/** The ledger: every certificate issued. */
export const certificates = caSchema.table(
  "certificates",
  {
    serial: text("serial").primaryKey(),
    spiffeId: text("spiffe_id").notNull(),
    notBefore: timestamp("not_before", { withTimezone: true }).notNull(),
    notAfter: timestamp("not_after", { withTimezone: true }).notNull(),
    requester: text("requester").notNull(),
    cluster: text("cluster"),
    issuerSerial: text("issuer_serial").notNull(),
    issuedAt: timestamp("issued_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokeReason: text("revoke_reason"),
  },
  (t) => [index("certificates_spiffe_idx").on(t.spiffeId)],
);

/** Tokens for workloads outside Kubernetes: only a hash is kept, scoped to one ns/sa. */
export const bootstrapTokens = caSchema.table("bootstrap_tokens", {
  id: text("id").primaryKey(),
  secretHash: text("secret_hash").notNull(),
  namespace: text("namespace").notNull(),
  serviceAccount: text("service_account").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  uses: integer("uses").notNull().default(0),
});

/** Bumped by every administrative change; a running CA reloads when it moves. */
export const caVersion = caSchema.table("ca_version", {
  id: integer("id").primaryKey(),
  version: bigint("version", { mode: "number" }).notNull(),
});

export const outbox = outboxTable(caSchema);
export const inbox = inboxTable(caSchema);
