import { type Bus, StateReader } from "@isthmus/bus";
import { type Domain, domainFilter, streamName } from "@isthmus/events";
import type { ReadModel } from "../domain/read-model.js";

/** The state streams the console follows. DLQ is left out: its messages are not entity state. */
export const FOLLOWED: Domain[] = ["discovery", "config", "ca", "pvl", "push"];

/**
 * Feeds the read model from every followed stream the way the services rebuild their state:
 * the last message per subject, then live updates. A stream that is missing (not provisioned
 * yet) or a reader that fails is retried, and the failure is logged, never swallowed.
 */
export function followMesh(bus: Bus, model: ReadModel, log: (msg: string) => void): { stop(): Promise<void> } {
  let stopped = false;
  const readers = new Set<StateReader>();
  const runs = FOLLOWED.map(async (domain) => {
    const stream = streamName(model.mesh, domain);
    let lastError = "";
    while (!stopped) {
      const reader = new StateReader(bus.js, { stream, filter: domainFilter(model.mesh, domain) });
      readers.add(reader);
      try {
        for await (const it of reader) {
          if (it.kind === "caught-up") model.streamCaughtUp(stream);
          else if (it.kind === "invalid") model.apply({ kind: "invalid", stream, subject: it.subject, seq: it.seq, reason: it.reason });
          else {
            const m = { stream, subject: it.subject, seq: it.seq, type: it.event.type, time: it.event.time, source: it.event.source };
            model.apply(it.kind === "state" ? { kind: "state", ...m, data: it.event.data } : { kind: "deleted", ...m });
          }
        }
      } catch (e) {
        // Said once per distinct failure, not every retry.
        const msg = (e as Error).message;
        if (!stopped && msg !== lastError) log(`following ${stream}: ${msg}; retrying every 2 s`);
        lastError = msg;
      } finally {
        readers.delete(reader);
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 2_000));
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all([...readers].map((r) => r.close()));
      await Promise.allSettled(runs);
    },
  };
}
