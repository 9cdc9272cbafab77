import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildEvent, certificateRevokedV1, contentId, intermediateRotatedV1, trustBundleUpdatedV1 } from "@isthmus/events";
import { certsFromPem, parseCertificate, toPem, x509 } from "@isthmus/pki";
import { type Executor, enqueue, openStore, type Store } from "@isthmus/store";
import { and, asc, eq, gt, inArray, isNull, lte, sql } from "drizzle-orm";
import type { LedgerRow } from "../domain/ledger-view.js";
import type { KeyProvider } from "./key-provider.js";
import { caVersion, certificates, issuers, outbox, trustRoots } from "./schema.js";

export const CA_SCHEMA = "cert_authority";
export const CA_CHANGED_CHANNEL = "isthmus_ca_changed";
export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

export function openCaStore(url: string | undefined, dataDir?: string): Promise<Store> {
  const o: Parameters<typeof openStore>[0] = { url, schema: CA_SCHEMA, migrationsFolder };
  if (dataDir) o.dataDir = dataDir;
  return openStore(o);
}

export function fingerprint(der: Buffer): string {
  return createHash("sha256").update(der).digest("hex");
}

export interface ActiveIssuer {
  serial: string;
  /** [issuing cert, ..., root] as DER. */
  chain: Buffer[];
  key: KeyObject;
  notAfter: Date;
}

const keyContext = (mesh: string, serial: string) => `isthmus:intermediate:${mesh}:${serial}`;

export async function loadActiveIssuer(store: Store, mesh: string, keys: KeyProvider): Promise<ActiveIssuer | undefined> {
  const [row] = await store.db
    .select()
    .from(issuers)
    .where(and(eq(issuers.mesh, mesh), eq(issuers.active, true)));
  if (!row) return undefined;
  const pkcs8 = await keys.unwrap(row.wrappedKey, keyContext(mesh, row.serial));
  return { serial: row.serial, chain: certsFromPem(row.chainPem), key: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }), notAfter: row.notAfter };
}

/** Every issuing certificate this mesh has had (for checking renewal client certificates). */
export async function allIssuerCerts(store: Store, mesh: string): Promise<Buffer[]> {
  const rows = await store.db.select({ chainPem: issuers.chainPem }).from(issuers).where(eq(issuers.mesh, mesh));
  return rows.map((r) => certsFromPem(r.chainPem)[0] as Buffer);
}

export async function trustBundle(db: Executor): Promise<string[]> {
  const rows = await db.select({ pem: trustRoots.certPem }).from(trustRoots).where(isNull(trustRoots.removedAt)).orderBy(trustRoots.addedAt);
  return rows.map((r) => r.pem);
}

export async function currentVersion(store: Store): Promise<number> {
  const [row] = await store.db.select({ v: caVersion.version }).from(caVersion).where(eq(caVersion.id, 1));
  return row?.v ?? 0;
}

async function bumpVersion(tx: Executor): Promise<number> {
  const [row] = await tx
    .insert(caVersion)
    .values({ id: 1, version: 1 })
    .onConflictDoUpdate({ target: caVersion.id, set: { version: sql`${caVersion.version} + 1` } })
    .returning({ v: caVersion.version });
  await tx.execute(sql`select pg_notify(${CA_CHANGED_CHANNEL}, '')`);
  return row?.v ?? 1;
}

async function publishBundle(tx: Executor, mesh: string, trustDomain: string, version: number): Promise<void> {
  const roots = await trustBundle(tx);
  if (!roots.length) return;
  const ev = buildEvent(trustBundleUpdatedV1, mesh, { trustDomain, roots, version }, { source: `cert-authority/${mesh}` });
  await enqueue(tx, outbox, { ...ev, msgId: contentId(ev.event.type, ev.subject, ev.event.data) });
}

async function addRoot(tx: Executor, rootPem: string): Promise<boolean> {
  const der = certsFromPem(rootPem)[0];
  if (!der) throw new Error("no certificate in the root PEM");
  const cert = x509(der);
  if (!cert.ca) throw new Error("the root certificate is not a CA certificate");
  const fp = fingerprint(der);
  const [existing] = await tx.select().from(trustRoots).where(eq(trustRoots.fingerprint, fp));
  if (existing && !existing.removedAt) return false;
  if (existing) await tx.update(trustRoots).set({ removedAt: null }).where(eq(trustRoots.fingerprint, fp));
  else await tx.insert(trustRoots).values({ fingerprint: fp, certPem: toPem(der) });
  return true;
}

export interface InstallIssuer {
  mesh: string;
  trustDomain: string;
  /** [issuing cert, ..., root] as DER. */
  chain: Buffer[];
  key: KeyObject;
}

/**
 * Make a CA certificate the mesh's active issuer (its key wrapped), trust its root, and
 * announce both, in one transaction.
 */
export async function installIssuer(store: Store, keys: KeyProvider, o: InstallIssuer): Promise<string> {
  const [leaf] = o.chain;
  const root = o.chain[o.chain.length - 1];
  if (!leaf || !root) throw new Error("an issuer chain needs the issuing certificate and its root");
  const cert = x509(leaf);
  if (!cert.ca) throw new Error("the issuing certificate is not a CA certificate");
  if (!cert.checkPrivateKey(o.key)) throw new Error("the private key does not belong to the issuing certificate");
  for (let i = 0; i + 1 < o.chain.length; i++) {
    if (!x509(o.chain[i] as Buffer).verify(x509(o.chain[i + 1] as Buffer).publicKey))
      throw new Error(`certificate ${i} of the chain is not signed by certificate ${i + 1}`);
  }
  const serial = parseCertificate(leaf).serialHex;
  const wrapped = await keys.wrap(o.key.export({ type: "pkcs8", format: "der" }), keyContext(o.mesh, serial));
  await store.db.transaction(async (tx) => {
    await tx
      .update(issuers)
      .set({ active: false })
      .where(and(eq(issuers.mesh, o.mesh), eq(issuers.active, true)));
    await tx.insert(issuers).values({
      serial,
      mesh: o.mesh,
      chainPem: o.chain.map((d) => toPem(d)).join(""),
      wrappedKey: wrapped,
      rootFingerprint: fingerprint(root),
      notAfter: new Date(cert.validTo),
      active: true,
    });
    await addRoot(tx, toPem(root));
    const version = await bumpVersion(tx);
    const ev = buildEvent(
      intermediateRotatedV1,
      o.mesh,
      { mesh: o.mesh, serial, notAfter: new Date(cert.validTo).toISOString(), rootFingerprint: fingerprint(root), certificate: toPem(leaf) },
      { source: `cert-authority/${o.mesh}` },
    );
    await enqueue(tx, outbox, { ...ev, msgId: contentId(ev.event.type, ev.subject, ev.event.data) });
    await publishBundle(tx, o.mesh, o.trustDomain, version);
  });
  return serial;
}

/** Add a root to the trust bundle (rotation step A -> A+B). */
export async function trustAdd(store: Store, mesh: string, trustDomain: string, rootPem: string): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    const added = await addRoot(tx, rootPem);
    if (added) await publishBundle(tx, mesh, trustDomain, await bumpVersion(tx));
    return added;
  });
}

/** Remove a root from the trust bundle (rotation step -> B only). The active issuer's root stays. */
export async function trustRemove(store: Store, mesh: string, trustDomain: string, rootPem: string): Promise<boolean> {
  const der = certsFromPem(rootPem)[0];
  if (!der) throw new Error("no certificate in the root PEM");
  const fp = fingerprint(der);
  return store.db.transaction(async (tx) => {
    const [active] = await tx
      .select({ fp: issuers.rootFingerprint })
      .from(issuers)
      .where(and(eq(issuers.mesh, mesh), eq(issuers.active, true)));
    if (active?.fp === fp) throw new Error("this root signs the active intermediate: rotate the intermediate to the new root first");
    const r = await tx
      .update(trustRoots)
      .set({ removedAt: new Date() })
      .where(and(eq(trustRoots.fingerprint, fp), isNull(trustRoots.removedAt)))
      .returning({ fp: trustRoots.fingerprint });
    if (r.length) await publishBundle(tx, mesh, trustDomain, await bumpVersion(tx));
    return r.length > 0;
  });
}

/** Mark a certificate revoked in the ledger and announce it; renewals with it are refused from then on. */
export async function revokeCertificate(store: Store, mesh: string, serial: string, reason: string): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    const revokedAt = new Date();
    const r = await tx
      .update(certificates)
      .set({ revokedAt, revokeReason: reason })
      .where(and(eq(certificates.serial, serial.toLowerCase()), isNull(certificates.revokedAt)))
      .returning({ serial: certificates.serial });
    if (!r.length) return false;
    await enqueue(
      tx,
      outbox,
      buildEvent(
        certificateRevokedV1,
        mesh,
        { serial: serial.toLowerCase(), reason, revokedAt: revokedAt.toISOString() },
        { source: `cert-authority/${mesh}` },
      ),
    );
    return true;
  });
}

/**
 * Certificates of the ledger issued by this mesh's issuers, soonest to expire first:
 * unexpired ones (revoked included) by default, every one with `includeExpired`, or only
 * the unrevoked ones expiring within `expiringWithinMs`. At most `limit`; `more` says
 * whether others were left out.
 */
export async function listCertificates(
  store: Store,
  mesh: string,
  o: { now: Date; includeExpired?: boolean; expiringWithinMs?: number | undefined; limit: number },
): Promise<{ rows: LedgerRow[]; more: boolean }> {
  const c = certificates;
  const ofMesh = inArray(c.issuerSerial, store.db.select({ serial: issuers.serial }).from(issuers).where(eq(issuers.mesh, mesh)));
  const when =
    o.expiringWithinMs !== undefined
      ? and(isNull(c.revokedAt), gt(c.notAfter, o.now), lte(c.notAfter, new Date(o.now.getTime() + o.expiringWithinMs)))
      : o.includeExpired
        ? undefined
        : gt(c.notAfter, o.now);
  const rows = await store.db
    .select()
    .from(c)
    .where(when ? and(ofMesh, when) : ofMesh)
    .orderBy(asc(c.notAfter), asc(c.serial))
    .limit(o.limit + 1);
  return { rows: rows.slice(0, o.limit), more: rows.length > o.limit };
}
