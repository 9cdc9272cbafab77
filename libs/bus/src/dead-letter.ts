import { type Domain, subjectFor } from "@isthmus/events";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";

export const DLQ_HEADERS = {
  reason: "Isthmus-Dlq-Reason",
  stream: "Isthmus-Dlq-Stream",
  sequence: "Isthmus-Dlq-Sequence",
  subject: "Isthmus-Dlq-Subject",
  consumer: "Isthmus-Dlq-Consumer",
  deliveries: "Isthmus-Dlq-Deliveries",
} as const;

/** `mesh.<mesh>.dlq.<domain>.<consumer>`: one dead-letter subject per consumer. */
export function deadLetterSubject(mesh: string, domain: Domain, consumer: string): string {
  return subjectFor(mesh, "dlq", domain, consumer);
}

function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, " ").slice(0, 2048);
}

/**
 * Copy a message that cannot be applied to the dead-letter subject: its bytes as they
 * were, its original headers, and why. Idempotent per (stream, sequence, consumer).
 */
export async function deadLetter(js: JetStreamClient, dlqSubject: string, m: JsMsg, consumer: string, reason: string): Promise<void> {
  const h = headers();
  if (m.headers) for (const [k, vs] of m.headers) for (const v of vs) if (k !== "Nats-Msg-Id" && !k.startsWith("Nats-Expected")) h.append(k, v);
  h.set(DLQ_HEADERS.reason, headerSafe(reason));
  h.set(DLQ_HEADERS.stream, m.info.stream);
  h.set(DLQ_HEADERS.sequence, String(m.seq));
  h.set(DLQ_HEADERS.subject, m.subject);
  h.set(DLQ_HEADERS.consumer, consumer);
  h.set(DLQ_HEADERS.deliveries, String(m.info.deliveryCount));
  await js.publish(dlqSubject, m.data, { headers: h, msgID: `dlq:${m.info.stream}:${m.seq}:${consumer}` });
}
