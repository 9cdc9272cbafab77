import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";

// Both drivers (postgres-js and PGlite) give a PgDatabase; code above this line never
// knows which one it has.
// biome-ignore lint/suspicious/noExplicitAny: the schema generic is the caller's
export type Database = PgDatabase<PgQueryResultHKT, any>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything that runs queries: the database or a transaction. */
export type Executor = Database | Transaction;

export type Rows = Array<Record<string, unknown>>;

/** Raw SQL returning rows, the same shape for both drivers. */
export async function query(db: Executor, q: SQL): Promise<Rows> {
  const r = (await db.execute(q)) as unknown;
  if (Array.isArray(r)) return r as Rows;
  return ((r as { rows?: Rows }).rows ?? []) as Rows;
}

export { sql };
