import type { KeyObject } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CsrError } from "@isthmus/pki";
import { CaError } from "../domain/errors.js";

export interface SignOrder {
  seq: number;
  issuerId: string;
  csrDer: Uint8Array;
  uri: string;
  notBefore: number;
  notAfter: number;
}
export type WorkerMessage = { type: "issuer"; id: string; caDer: Uint8Array; key: KeyObject } | { type: "sign"; orders: SignOrder[] };
export type SignReply =
  | { seq: number; der: Uint8Array; serialHex: string }
  | { seq: number; csrError: { code: CsrError["code"]; message: string } }
  | { seq: number; failure: string };

export interface LeafOrder {
  issuerId: string;
  csrDer: Uint8Array;
  uri: string;
  notBefore: Date;
  notAfter: Date;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: { der: Buffer; serialHex: string }) => void; reject: (e: Error) => void }>;
  /** Orders not yet posted: all those of one turn of the event loop go in one message. */
  outgoing: SignOrder[];
}

// Run from the TypeScript sources (tests), the worker loads its module through tsx, as the
// tests' own child processes do; from the build it is plain JavaScript beside this file.
const fromSources = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(fromSources ? "./crypto-worker.ts" : "./crypto-worker.js", import.meta.url);
const newWorker = () =>
  fromSources
    ? new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`, {
        eval: true,
        execArgv: ["--conditions=source"],
      })
    : new Worker(WORKER_URL, { execArgv: [] });

/**
 * The CA's crypto on worker threads, one per core: a CSR's key import and proof of
 * possession and the certificate's signature would otherwise share the event loop with
 * TLS, HTTP/2 and the ledger (Node's threadpool path costs the loop almost as much as the
 * work itself). Orders and answers travel in batches, one message per turn of each
 * side's loop, since waking a thread costs more than copying a CSR. A worker that dies
 * fails its requests (UNAVAILABLE) and is replaced.
 */
export class CryptoPool {
  private readonly slots: Slot[] = [];
  private readonly issuers = new Map<string, { caDer: Uint8Array; key: KeyObject }>();
  private seq = 0;
  private closed = false;

  constructor(size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = newWorker();
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), outgoing: [] };
    worker.on("message", (replies: SignReply[]) => {
      for (const r of replies) {
        const p = slot.pending.get(r.seq);
        if (!p) continue;
        slot.pending.delete(r.seq);
        if ("der" in r) p.resolve({ der: Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength), serialHex: r.serialHex });
        else if ("csrError" in r) p.reject(new CsrError(r.csrError.code, r.csrError.message));
        else p.reject(new Error(`certificate signing failed: ${r.failure}`));
      }
    });
    const started = Date.now();
    const lost = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      for (const p of slot.pending.values()) p.reject(new CaError("UNAVAILABLE", `the crypto worker ${why}; retry`));
      slot.pending.clear();
      if (this.closed) return;
      // A worker that cannot even start is not restarted in a tight loop.
      const again = setTimeout(() => this.closed || this.slots.push(this.spawn()), Date.now() - started < 1_000 ? 1_000 : 0);
      again.unref();
    };
    worker.on("error", (err) => lost(`failed: ${err.message}`));
    worker.on("exit", (code) => lost(`exited with code ${code}`));
    for (const [id, i] of this.issuers) worker.postMessage({ type: "issuer", id, ...i } satisfies WorkerMessage);
    return slot;
  }

  /** Make an issuing certificate and its key known to every worker under `id`. */
  setIssuer(id: string, caDer: Uint8Array, key: KeyObject): void {
    this.issuers.set(id, { caDer, key });
    for (const old of [...this.issuers.keys()].slice(0, -4)) this.issuers.delete(old);
    for (const s of this.slots) s.worker.postMessage({ type: "issuer", id, caDer, key } satisfies WorkerMessage);
  }

  /** Verify the CSR (DER) and sign its certificate; CsrError when the CSR is refused. */
  sign(o: LeafOrder): Promise<{ der: Buffer; serialHex: string }> {
    if (this.closed || !this.slots.length) return Promise.reject(new CaError("UNAVAILABLE", "no crypto worker is running; retry"));
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      slot.pending.set(seq, { resolve, reject });
      // A Buffer is often a view of an 8 KiB slab that postMessage would copy whole: the
      // CSR travels in a buffer of its own, moved rather than copied.
      slot.outgoing.push({
        seq,
        issuerId: o.issuerId,
        csrDer: new Uint8Array(o.csrDer),
        uri: o.uri,
        notBefore: o.notBefore.getTime(),
        notAfter: o.notAfter.getTime(),
      });
      if (slot.outgoing.length === 1) setImmediate(() => this.post(slot));
    });
  }

  private post(slot: Slot): void {
    const orders = slot.outgoing;
    slot.outgoing = [];
    if (!orders.length || !this.slots.includes(slot)) return;
    slot.worker.postMessage(
      { type: "sign", orders } satisfies WorkerMessage,
      orders.map((o) => o.csrDer.buffer as ArrayBuffer),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
  }
}
