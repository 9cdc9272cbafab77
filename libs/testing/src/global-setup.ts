import { provideNats, providePostgres } from "./environment.js";

// Vitest global setup: decide once where NATS and Postgres are; workers inherit the env.
export default async function setup(): Promise<() => Promise<void>> {
  const nats = await provideNats();
  const pg = await providePostgres();
  process.env.NATS_URL = nats.url;
  process.env.DATABASE_URL = pg.url;
  process.env.ISTHMUS_TEST_ADMIN_DATABASE_URL = pg.url;
  if (process.env.ISTHMUS_TEST_VERBOSE) console.log(`tests use NATS ${nats.url} (${nats.origin}), Postgres ${pg.url} (${pg.origin})`);
  return async () => {
    await nats.stop?.();
    await pg.stop?.();
  };
}
