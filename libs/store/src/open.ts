import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import { migrate as migratePg } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type Database, query, sql } from "./database.js";

/** Migration bookkeeping: one table per service schema, apart from the schemas themselves. */
export const MIGRATIONS_SCHEMA = "isthmus_migrations";

export interface StoreOptions {
  /** postgres://… ; when absent an embedded PGlite database is used. */
  url?: string | undefined;
  /** The service's own Postgres schema (one per service). */
  schema: string;
  /** drizzle-kit output folder for that schema. */
  migrationsFolder: string;
  /** PGlite data directory; in memory when absent. */
  dataDir?: string;
  /** Pool size for postgres-js. */
  maxConnections?: number;
}

/** A cross-process mutual exclusion, held by at most one relay at a time. */
export interface LeaderLock {
  /** True when this process holds (or just acquired) the lock. */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}

export interface Store {
  readonly db: Database;
  readonly kind: "postgres" | "pglite";
  readonly schema: string;
  /** For readiness: the database answers. */
  ping(): Promise<boolean>;
  /** Called on NOTIFY on a channel (wake-ups; best effort). */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  leaderLock(name: string): LeaderLock;
  close(): Promise<void>;
}

/**
 * Session advisory locks, all held on one reserved connection: a lock lives exactly as
 * long as that session, so a crashed holder frees it and a dead connection loses them all.
 */
class SessionLocks {
  private conn: postgres.ReservedSql | undefined;
  private readonly held = new Set<string>();

  constructor(private readonly client: postgres.Sql) {}

  private async session(): Promise<postgres.ReservedSql> {
    if (!this.conn) this.conn = await this.client.reserve();
    return this.conn;
  }

  private drop(): void {
    this.conn?.release();
    this.conn = undefined;
    this.held.clear();
  }

  async tryAcquire(name: string): Promise<boolean> {
    try {
      const c = await this.session();
      if (this.held.has(name)) {
        await c`select 1`;
        return true;
      }
      const [row] = await c`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as ok`;
      if (row?.ok) this.held.add(name);
      return Boolean(row?.ok);
    } catch {
      this.drop();
      return false;
    }
  }

  async release(name: string): Promise<void> {
    if (!this.held.delete(name) || !this.conn) return;
    await this.conn`select pg_advisory_unlock(hashtextextended(${name}, 0))`.catch(() => {});
    if (!this.held.size) this.drop();
  }

  async releaseAll(): Promise<void> {
    for (const n of [...this.held]) await this.release(n);
    this.drop();
  }
}

async function openPostgres(o: StoreOptions & { url: string }): Promise<Store> {
  const client = postgres(o.url, {
    max: o.maxConnections ?? 10,
    onnotice: () => {},
    // Fail fast instead of queueing forever when Postgres is gone; callers retry.
    connect_timeout: 5,
  });
  const db = drizzlePg({ client }) as unknown as Database;
  // Migrations run on a one-connection client holding a session advisory lock, so
  // replicas starting together apply them once.
  const single = postgres(o.url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const key = `isthmus:migrate:${o.schema}`;
  try {
    await single`select pg_advisory_lock(hashtextextended(${key}, 0))`;
    await migratePg(drizzlePg({ client: single }), {
      migrationsFolder: o.migrationsFolder,
      migrationsSchema: MIGRATIONS_SCHEMA,
      migrationsTable: o.schema,
    });
    await single`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
  } finally {
    await single.end({ timeout: 5 });
  }
  const locks = new SessionLocks(client);
  return {
    db,
    kind: "postgres",
    schema: o.schema,
    async ping() {
      try {
        await client`select 1`;
        return true;
      } catch {
        return false;
      }
    },
    async listen(channel, onNotify) {
      const sub = await client.listen(channel, () => onNotify());
      return () => sub.unlisten();
    },
    leaderLock(name) {
      return {
        tryAcquire: () => locks.tryAcquire(name),
        release: () => locks.release(name),
      };
    },
    async close() {
      await locks.releaseAll();
      await client.end({ timeout: 5 });
    },
  };
}

async function openPglite(o: StoreOptions): Promise<Store> {
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
  const client = new PGlite(o.dataDir);
  const db = drizzlePglite({ client }) as unknown as Database;
  await migratePglite(drizzlePglite({ client }), {
    migrationsFolder: o.migrationsFolder,
    migrationsSchema: MIGRATIONS_SCHEMA,
    migrationsTable: o.schema,
  });
  return {
    db,
    kind: "pglite",
    schema: o.schema,
    async ping() {
      try {
        await query(db, sql`select 1`);
        return true;
      } catch {
        return false;
      }
    },
    async listen(channel, onNotify) {
      const unsub = await client.listen(channel, () => onNotify());
      return unsub;
    },
    // An embedded database belongs to one process: it is always the leader.
    leaderLock: () => ({ tryAcquire: async () => true, release: async () => {} }),
    async close() {
      await client.close();
    },
  };
}

/** drizzle over postgres-js when a URL is given, over embedded PGlite otherwise; migrated. */
export async function openStore(o: StoreOptions): Promise<Store> {
  if (!/^[a-z_][a-z0-9_]*$/.test(o.schema)) throw new Error(`invalid schema name ${o.schema}`);
  return o.url ? openPostgres({ ...o, url: o.url }) : openPglite(o);
}
