import { buildEvent, certificateIssuedV1 } from "@isthmus/events";
import { outboxChannel, outboxRows, query, type Store } from "@isthmus/store";
import { metrics } from "@opentelemetry/api";
import { type SQL, sql } from "drizzle-orm";
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

  /**
   * The batch's ledger rows, its outbox rows and the relay's wake-up in one statement: one
   * round trip and one implicit transaction (data-modifying CTEs commit together or not at
   * all), with the rows passed as two JSON parameters instead of thousands of bound ones.
   */
  private statement(batch: Pending[]): SQL {
    const rows = batch.map(({ entry: e }) => ({
      serial: e.serial,
      spiffe_id: e.spiffeId,
      not_before: e.notBefore.toISOString(),
      not_after: e.notAfter.toISOString(),
      requester: e.requester,
      cluster: e.cluster ?? null,
      issuer_serial: e.issuerSerial,
    }));
    const events = outboxRows(
      batch.map(({ entry: e }) =>
        buildEvent(
          certificateIssuedV1,
          this.mesh,
          {
            serial: e.serial,
            spiffeId: e.spiffeId,
            notBefore: e.notBefore.toISOString(),
            notAfter: e.notAfter.toISOString(),
            issuer: e.issuerSerial,
            requester: e.requester,
            ...(e.cluster ? { cluster: e.cluster } : {}),
          },
          { source: `cert-authority/${this.mesh}` },
        ),
      ),
    ).map((r) => ({ msg_id: r.msgId, aggregate: r.aggregate, subject: r.subject, payload: r.payload, headers: r.headers }));
    const c = certificates;
    const o = outbox;
    const col = (x: { name: string }) => sql.identifier(x.name);
    return sql`with c as (
      insert into ${c} (${col(c.serial)}, ${col(c.spiffeId)}, ${col(c.notBefore)}, ${col(c.notAfter)}, ${col(c.requester)}, ${col(c.cluster)}, ${col(c.issuerSerial)})
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(serial text, spiffe_id text, not_before timestamptz, not_after timestamptz, requester text, cluster text, issuer_serial text)
    ), o as (
      insert into ${o} (${col(o.msgId)}, ${col(o.aggregate)}, ${col(o.subject)}, ${col(o.payload)}, ${col(o.headers)})
      select * from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as y(msg_id text, aggregate text, subject text, payload text, headers jsonb)
    )
    select pg_notify(${outboxChannel(o)}, '')`;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let the requests already in this turn of the event loop join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await query(this.store.db, this.statement(batch));
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
