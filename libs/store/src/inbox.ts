import { lt } from "drizzle-orm";
import { type PgSchema, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { Database, Transaction } from "./database.js";

/** Events already applied, per consumer: the inbox half of exactly-once effects. */
export function inboxTable(schema: PgSchema) {
  return schema.table(
    "inbox",
    {
      consumer: text("consumer").notNull(),
      eventId: text("event_id").notNull(),
      appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
  );
}

export type InboxTable = ReturnType<typeof inboxTable>;

/**
 * Run `apply` and record the event in one transaction, unless it was recorded before.
 * Ack the message after this resolves: a redelivery after a crash is then a no-op.
 * Returns false when the event had already been applied.
 */
export async function applyOnce(
  db: Database,
  inbox: InboxTable,
  consumer: string,
  eventId: string,
  apply: (tx: Transaction) => Promise<void>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const fresh = await tx.insert(inbox).values({ consumer, eventId }).onConflictDoNothing().returning({ eventId: inbox.eventId });
    if (!fresh.length) return false;
    await apply(tx);
    return true;
  });
}

export async function pruneInbox(db: Database, inbox: InboxTable, olderThanMs: number): Promise<void> {
  await db.delete(inbox).where(lt(inbox.appliedAt, new Date(Date.now() - olderThanMs)));
}
