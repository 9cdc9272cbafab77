import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CaCallFailure, CaClient } from "@isthmus/cert-authority";
import { certsFromPem, createCsr, generateKey, type KeyAlgorithm, toPem, x509 } from "@isthmus/pki";

export interface AgentOptions {
  caAddress: string;
  /** PEM file with the roots that authenticate the CA (and that workloads should trust). */
  caRoots: string;
  out: string;
  token?: string;
  tokenFile?: string;
  clusterId?: string;
  keyAlg: KeyAlgorithm;
  once?: boolean;
}

/** The file names gRPC's file_watcher certificate provider is pointed at. */
export const AGENT_FILES = { key: "key.pem", chain: "cert-chain.pem", roots: "root-cert.pem" } as const;

function writeAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

function token(o: AgentOptions): string | undefined {
  if (o.token) return o.token;
  if (o.tokenFile) return readFileSync(o.tokenFile, "utf8").trim();
  return undefined;
}

/**
 * One round: make a fresh key here (it never leaves this process but for the key file),
 * ask the CA — with the current certificate when there is one (renewal), else the token —
 * and write key, chain and roots. Returns when the next renewal is due.
 */
export async function agentRound(o: AgentOptions): Promise<{ notAfter: Date; renewAt: Date; spiffeId: string }> {
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  const roots = readFileSync(o.caRoots, "utf8");
  const k = generateKey(o.keyAlg);
  const csr = toPem(createCsr(k.privateKey), "CERTIFICATE REQUEST");
  const keyPath = join(o.out, AGENT_FILES.key);
  const chainPath = join(o.out, AGENT_FILES.chain);
  let chain: string[] | undefined;
  if (existsSync(keyPath) && existsSync(chainPath)) {
    const current = readFileSync(chainPath, "utf8");
    const leaf = certsFromPem(current)[0];
    if (leaf && new Date(x509(leaf).validTo).getTime() > Date.now()) {
      const c = new CaClient(o.caAddress, roots, { key: readFileSync(keyPath, "utf8"), chain: current });
      chain = await c.create({ csr }).catch(() => undefined);
      c.close();
    }
  }
  if (!chain) {
    const c = new CaClient(o.caAddress, roots);
    try {
      chain = await c.create({ csr, token: token(o), clusterId: o.clusterId });
    } catch (err) {
      const f = err as CaCallFailure;
      throw new Error(`the CA refused: ${f.details ?? String(err)}`);
    } finally {
      c.close();
    }
  }
  const leaf = x509(chain[0] as string);
  const bundle = [...new Set([...certsFromPem(roots).map((d) => toPem(d)), chain[chain.length - 1] as string])];
  writeAtomic(keyPath, k.privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  writeAtomic(chainPath, chain.slice(0, -1).join(""));
  writeAtomic(join(o.out, AGENT_FILES.roots), bundle.join(""));
  const from = new Date(leaf.validFrom).getTime();
  const to = new Date(leaf.validTo).getTime();
  return { notAfter: new Date(to), renewAt: new Date(from + (to - from) / 2), spiffeId: (leaf.subjectAltName ?? "").replace(/^URI:/, "") };
}

export async function agent(o: AgentOptions): Promise<void> {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  for (;;) {
    let next: Date;
    try {
      const r = await agentRound(o);
      say(`certificate for ${r.spiffeId} written to ${o.out} (expires ${r.notAfter.toISOString()}, renews ${r.renewAt.toISOString()})`);
      if (o.once) return;
      next = r.renewAt;
    } catch (err) {
      if (o.once) throw err;
      process.stderr.write(`agent: ${(err as Error).message}; retrying in 10s\n`);
      next = new Date(Date.now() + 10_000);
    }
    await new Promise((r) => setTimeout(r, Math.max(1_000, next.getTime() - Date.now())));
  }
}
