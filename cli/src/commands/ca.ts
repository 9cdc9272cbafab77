import { readFileSync } from "node:fs";
import {
  type CertificateStatus,
  certificateStatus,
  createBootstrapToken,
  createIntermediate,
  durationSeconds,
  importPluginCa,
  initRoot,
  LocalKeyProvider,
  listCertificates,
  openCaStore,
  revokeCertificate,
  trustAdd,
  trustRemove,
} from "@isthmus/cert-authority";
import type { KeyAlgorithm } from "@isthmus/pki";
import type { Store } from "@isthmus/store";
import { table } from "./proxy-config.js";

const say = (s: string) => process.stdout.write(`${s}\n`);

/** The mesh CA's key-encryption key: --kek-file, else CA_KEK / CA_KEK_FILE. */
function meshKeys(kekFile: string | undefined): LocalKeyProvider {
  return kekFile ? LocalKeyProvider.fromEnv({ CA_KEK_FILE: kekFile }) : LocalKeyProvider.fromEnv();
}

/** The offline root's key-encryption key: --root-kek-file, else ISTHMUS_ROOT_KEK / ISTHMUS_ROOT_KEK_FILE. */
function rootKeys(kekFile: string | undefined): LocalKeyProvider {
  if (kekFile) return LocalKeyProvider.fromEnv({ CA_KEK_FILE: kekFile });
  return LocalKeyProvider.fromEnv({ CA_KEK: process.env.ISTHMUS_ROOT_KEK, CA_KEK_FILE: process.env.ISTHMUS_ROOT_KEK_FILE });
}

async function withStore<T>(url: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const dbUrl = url ?? process.env.DATABASE_URL;
  if (!dbUrl) throw new Error("the mesh CA's database: pass --database-url or set DATABASE_URL");
  const store = await openCaStore(dbUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export interface CommonCaOptions {
  mesh: string;
  databaseUrl?: string;
  trustDomain: string;
  kekFile?: string;
}

export async function caInitRoot(o: { dir: string; keyAlg: KeyAlgorithm; ttlDays: number; rootKekFile?: string }): Promise<void> {
  const r = await initRoot({ dir: o.dir, keys: rootKeys(o.rootKekFile), keyAlg: o.keyAlg, ttlDays: o.ttlDays });
  say(`root created in ${o.dir} (sha256 ${r.fingerprint}); keep the directory offline`);
}

export async function caCreateIntermediate(
  o: CommonCaOptions & { rootDir: string; rootKekFile?: string; keyAlg: KeyAlgorithm; ttlDays: number },
): Promise<void> {
  const r = await withStore(o.databaseUrl, (store) =>
    createIntermediate({
      mesh: o.mesh,
      trustDomain: o.trustDomain,
      rootDir: o.rootDir,
      rootKeys: rootKeys(o.rootKekFile),
      store,
      meshKeys: meshKeys(o.kekFile),
      keyAlg: o.keyAlg,
      ttlDays: o.ttlDays,
    }),
  );
  say(`intermediate ${r.serial} installed as the issuer of mesh ${o.mesh}`);
}

export async function caImportPlugin(o: CommonCaOptions & { dir: string }): Promise<void> {
  const r = await withStore(o.databaseUrl, (store) =>
    importPluginCa({ dir: o.dir, mesh: o.mesh, trustDomain: o.trustDomain, store, meshKeys: meshKeys(o.kekFile) }),
  );
  say(`plug-in CA ${r.serial} installed as the issuer of mesh ${o.mesh}`);
}

export async function caTrust(action: "add" | "remove", o: CommonCaOptions & { root: string }): Promise<void> {
  const pem = readFileSync(o.root, "utf8");
  const changed = await withStore(o.databaseUrl, (store) => (action === "add" ? trustAdd : trustRemove)(store, o.mesh, o.trustDomain, pem));
  say(changed ? `trust bundle of mesh ${o.mesh}: root ${action === "add" ? "added" : "removed"}` : "trust bundle unchanged");
}

export async function caBootstrapToken(o: CommonCaOptions & { namespace: string; serviceAccount: string; ttlHours: number }): Promise<void> {
  const token = await withStore(o.databaseUrl, (store) =>
    createBootstrapToken(store, { namespace: o.namespace, serviceAccount: o.serviceAccount, ttlMs: o.ttlHours * 3_600_000 }),
  );
  say(token);
}

export async function caRevoke(o: CommonCaOptions & { serial: string; reason: string }): Promise<void> {
  const done = await withStore(o.databaseUrl, (store) => revokeCertificate(store, o.mesh, o.serial, o.reason));
  if (!done) throw new Error(`no unrevoked certificate with serial ${o.serial} in the ledger of mesh ${o.mesh}`);
  say(`certificate ${o.serial} revoked`);
}

/** Without --expiring-within, a certificate is shown as expiring in its last hour. */
const EXPIRING_DEFAULT_S = 3600;

export async function caList(
  o: Pick<CommonCaOptions, "mesh" | "databaseUrl"> & { expiringWithin?: string; all?: boolean; limit: number; output: "table" | "json" },
): Promise<void> {
  const withinS = o.expiringWithin === undefined ? undefined : durationSeconds(o.expiringWithin, 0);
  const now = new Date();
  const { rows, more } = await withStore(o.databaseUrl, (store) =>
    listCertificates(store, o.mesh, {
      now,
      includeExpired: o.all ?? false,
      expiringWithinMs: withinS === undefined ? undefined : withinS * 1000,
      limit: o.limit,
    }),
  );
  const windowMs = (withinS ?? EXPIRING_DEFAULT_S) * 1000;
  const listed = rows.map((r) => ({ ...r, status: certificateStatus(r, now, windowMs) }));
  const truncated = more ? `more certificates match than the ${o.limit} shown: raise --limit` : undefined;
  if (o.output === "json") {
    say(JSON.stringify(listed, null, 2));
    if (truncated) process.stderr.write(`${truncated}\n`);
    return;
  }
  const lines = table({
    header: ["SERIAL", "SPIFFE ID", "STATUS", "NOT AFTER", "REQUESTER", "ISSUED"],
    rows: listed.map((r) => [r.serial, r.spiffeId, r.status, r.notAfter.toISOString(), r.requester, r.issuedAt.toISOString()]),
  });
  for (const l of lines) say(l);
  const counts = new Map<CertificateStatus, number>();
  for (const r of listed) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const parts = (["valid", "expiring", "revoked", "expired"] as const).filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  say(`${listed.length} certificate${listed.length === 1 ? "" : "s"} of mesh ${o.mesh}${parts.length ? `: ${parts.join(", ")}` : ""}`);
  if (truncated) say(truncated);
}
