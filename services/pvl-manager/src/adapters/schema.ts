import { outboxTable } from "@isthmus/store";
import { bigserial, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";

export const pvlSchema = pgSchema("pvl_manager");

/** Every cloud operation tried, with its outcome: the history an operator reads. */
export const operations = pvlSchema.table("operations", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  config: text("config").notNull(),
  action: text("action").notNull(),
  resourceKey: text("resource_key").notNull(),
  resourceId: text("resource_id"),
  clientToken: text("client_token"),
  outcome: text("outcome").notNull(),
  detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
  at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
});

export const outbox = outboxTable(pvlSchema);
