import { buildEvent, certificateIssuedV1 } from "@isthmus/events";
import { enqueue, type Store } from "@isthmus/store";
import { metrics } from "@opentelemetry/api";
import { CaError } from "../domain/errors.js";
import { certificates, outbox } from "./schema.js";

export interface LedgerEntry {
  serial: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  requester: string;
  cluster: string | undefined;
  issuerSerial: string;
}

const issuedTotal = metrics
  .getMeter("cert-authority")
  .createCounter("isthmus_ca_certificates_issued_total", { description: "certificates issued and recorded" });

interface Pending {
  entry: LedgerEntry;
  done: (err?: Error) => void;
}

/**
 * Records issued certificates and their CertificateIssued events. Entries arriving
 * together share one transaction (group commit); each caller resolves only once its
 * row is durable, so a certificate is never handed out unrecorded.
 */
export class Ledger {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: Store,
    private readonly mesh: string,
    private readonly maxBatch = 512,
  ) {}

  record(entry: LedgerEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let the requests already in this turn of the event loop join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.store.db.transaction(async (tx) => {
          await tx.insert(certificates).values(batch.map((p) => p.entry));
          await enqueue(
            tx,
            outbox,
            batch.map((p) =>
              buildEvent(
                certificateIssuedV1,
                this.mesh,
                {
                  serial: p.entry.serial,
                  spiffeId: p.entry.spiffeId,
                  notBefore: p.entry.notBefore.toISOString(),
                  notAfter: p.entry.notAfter.toISOString(),
                  issuer: p.entry.issuerSerial,
                  requester: p.entry.requester,
                  ...(p.entry.cluster ? { cluster: p.entry.cluster } : {}),
                },
                { source: `cert-authority/${this.mesh}` },
              ),
            ),
          );
        });
        issuedTotal.add(batch.length, { mesh: this.mesh });
        for (const p of batch) p.done();
      } catch (err) {
        const e = new CaError("UNAVAILABLE", `the certificate ledger cannot be written (${(err as Error).message}); nothing was issued, retry later`);
        for (const p of batch) p.done(e);
      }
    }
    this.flushing = false;
  }
}
