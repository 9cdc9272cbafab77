import { Bus, busOptionsFromEnv } from "@isthmus/bus";
import { assertMeshId, DOMAINS, type Domain, decodeEvent, domainFilter, isDomain, streamName } from "@isthmus/events";
import { type ConsumerMessages, DeliverPolicy } from "@nats-io/jetstream";

export interface TailOptions {
  mesh: string;
  domain?: string;
  subject?: string;
  format: "json" | "table";
  from: "new" | "all" | "last";
  /** Stop after this many events (scripts and tests). */
  limit?: number;
}

export interface TailLine {
  stream: string;
  seq: number;
  subject: string;
  received: string;
  id?: string;
  type?: string;
  time?: string;
  source?: string;
  data?: unknown;
  invalid?: string;
}

function domainsFor(o: TailOptions): Domain[] {
  if (o.domain !== undefined) {
    if (!isDomain(o.domain)) throw new Error(`unknown domain ${o.domain}; one of ${DOMAINS.join(", ")}`);
    return [o.domain];
  }
  if (o.subject !== undefined) {
    const d = o.subject.split(".")[2];
    if (d && isDomain(d)) return [d];
  }
  return [...DOMAINS];
}

export function formatTable(l: TailLine): string {
  const when = (l.time ?? l.received).replace("T", " ").replace(/\.\d+Z$/, "Z");
  const what = l.invalid ? `INVALID: ${l.invalid}` : (l.type ?? "");
  const data = l.data === undefined ? "" : JSON.stringify(l.data);
  return `${when}  ${what.padEnd(44)}  ${l.subject}  ${data.length > 160 ? `${data.slice(0, 157)}...` : data}`;
}

/** Print events of a mesh as they arrive: one JSON object per line, or a readable table. */
export async function eventsTail(o: TailOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  assertMeshId(o.mesh);
  const bus = await Bus.connect({ ...busOptionsFromEnv(process.env, "isthmus-cli"), waitOnFirstConnect: false });
  const iterators: ConsumerMessages[] = [];
  let printed = 0;
  const stopAll = async () => {
    for (const it of iterators) await it.close().catch(() => {});
  };
  process.once("SIGINT", () => void stopAll());
  const deliver = o.from === "all" ? DeliverPolicy.All : o.from === "last" ? DeliverPolicy.LastPerSubject : DeliverPolicy.New;
  const streams = domainsFor(o).map((d) => ({ d, stream: streamName(o.mesh, d) }));
  const present = [];
  for (const s of streams) {
    try {
      await bus.jsm.streams.info(s.stream);
      present.push(s);
    } catch {
      // a stream not provisioned yet: nothing to tail there
    }
  }
  if (!present.length) {
    await bus.close();
    throw new Error(`no event streams for mesh ${o.mesh} (is the control plane running with this mesh id?)`);
  }
  if (o.format === "table") out(`${"TIME".padEnd(20)}  ${"TYPE".padEnd(44)}  SUBJECT  DATA`);
  await Promise.all(
    present.map(async ({ d, stream }) => {
      const c = await bus.js.consumers.get(stream, { filter_subjects: o.subject ?? domainFilter(o.mesh, d), deliver_policy: deliver });
      const msgs = await c.consume({ max_messages: 512 });
      iterators.push(msgs);
      for await (const m of msgs) {
        const line: TailLine = { stream, seq: m.seq, subject: m.subject, received: new Date().toISOString() };
        const r = decodeEvent(m.data);
        if (r.ok) Object.assign(line, { id: r.event.id, type: r.event.type, time: r.event.time, source: r.event.source, data: r.event.data });
        else line.invalid = r.reason;
        out(o.format === "json" ? JSON.stringify(line) : formatTable(line));
        if (o.limit !== undefined && ++printed >= o.limit) {
          // Not awaited: close() waits for this very loop to leave its body.
          void stopAll();
          break;
        }
      }
    }),
  );
  await bus.close();
}
