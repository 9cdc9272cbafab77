import { parentPort } from "node:worker_threads";
import { CsrError, LeafTemplate, parseCertificate, parseCsr, verifyCsrSync } from "@isthmus/pki";
import type { SignOrder, SignReply, WorkerMessage } from "./crypto-pool.js";

// One of the CA's crypto threads: CSR parse, key import, proof of possession and the
// certificate's signature, synchronously, so the event loop of the CA does none of it.

const port = parentPort;
if (!port) throw new Error("crypto-worker runs as a worker thread");
const templates = new Map<string, LeafTemplate>();
/** Answers go back in groups this size, so the first of a large batch does not wait for the last. */
const REPLY_EVERY = 16;

function signOne(o: SignOrder): { reply: SignReply; moved?: ArrayBuffer } {
  try {
    const template = templates.get(o.issuerId);
    if (!template) throw new Error(`issuer ${o.issuerId} is not loaded in this worker`);
    const csr = parseCsr(o.csrDer);
    verifyCsrSync(csr);
    const { der, serialHex } = template.issueSync({
      spki: csr.key.spki,
      uri: o.uri,
      notBefore: new Date(o.notBefore),
      notAfter: new Date(o.notAfter),
      rsa: csr.key.kind === "rsa",
    });
    // Its own buffer, moved: the DER is a view of a shared slab (see crypto-pool.ts).
    const own = new Uint8Array(der);
    return { reply: { seq: o.seq, der: own, serialHex }, moved: own.buffer };
  } catch (err) {
    return {
      reply:
        err instanceof CsrError
          ? { seq: o.seq, csrError: { code: err.code, message: err.message } }
          : { seq: o.seq, failure: (err as Error)?.message ?? String(err) },
    };
  }
}

port.on("message", (m: WorkerMessage) => {
  if (m.type === "issuer") {
    templates.set(m.id, new LeafTemplate(parseCertificate(Buffer.from(m.caDer)), m.key));
    // In-flight requests finish on the previous issuer; older ones are not asked for again.
    for (const id of [...templates.keys()].slice(0, -4)) templates.delete(id);
    return;
  }
  for (let i = 0; i < m.orders.length; i += REPLY_EVERY) {
    const done = m.orders.slice(i, i + REPLY_EVERY).map(signOne);
    port.postMessage(
      done.map((d) => d.reply),
      done.flatMap((d) => (d.moved ? [d.moved] : [])),
    );
  }
});
