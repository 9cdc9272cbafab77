import { randomBytes } from "node:crypto";
import postgres from "postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.ISTHMUS_TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error("no DATABASE_URL: run tests through vitest (its global setup provides one)");
  return url;
}

/** A fresh, empty database on the test Postgres; drop() removes it. */
export async function createTestDatabase(prefix = "isthmus_test"): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      try {
        await s.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await s.end();
      }
    },
  };
}
