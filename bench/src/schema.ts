import { outboxTable } from "@isthmus/store";
import { pgSchema } from "drizzle-orm/pg-core";

export const benchSchema = pgSchema("bench");
export const outbox = outboxTable(benchSchema);
