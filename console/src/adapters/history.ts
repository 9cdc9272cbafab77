import type { Bus } from "@isthmus/bus";
import { decodeEvent, isTombstone, parseSubject, streamName } from "@isthmus/events";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { HistoryEntry } from "../domain/wire.js";

const MAX_VERSIONS = 200;

/**
 * Every version the CONFIG stream still holds for one resource's subject, oldest first:
 * who published it (the event's source), when, and its spec. Only config subjects of the
 * console's mesh are read.
 */
export async function configHistory(bus: Bus, mesh: string, subject: string): Promise<HistoryEntry[]> {
  let parsed: ReturnType<typeof parseSubject>;
  try {
    parsed = parseSubject(subject);
  } catch (e) {
    throw new RangeError((e as Error).message);
  }
  if (parsed.mesh !== mesh || parsed.domain !== "config" || subject.includes("*") || subject.includes(">")) {
    throw new RangeError(`not a config resource subject of mesh ${mesh}: ${subject}`);
  }
  const consumer = await bus.js.consumers.get(streamName(mesh, "config"), { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  const out: HistoryEntry[] = [];
  try {
    let pending = (await consumer.info(true)).num_pending;
    while (pending > 0 && out.length < MAX_VERSIONS) {
      const batch = await consumer.fetch({ max_messages: Math.min(pending, MAX_VERSIONS), expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        pending = m.info.pending;
        const r = decodeEvent(m.data);
        if (!r.ok) {
          out.push({ seq: m.seq, time: "", source: `(unreadable: ${r.reason})`, deleted: false });
          continue;
        }
        const deleted = isTombstone(r.event);
        const e: HistoryEntry = { seq: m.seq, time: r.event.time, source: r.event.source, deleted };
        if (!deleted) e.spec = (r.event.data as { spec?: unknown }).spec;
        out.push(e);
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return out;
}
