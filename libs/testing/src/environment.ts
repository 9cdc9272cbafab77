import { findNatsServer, NatsServer } from "./nats-server.js";
import { hostPort, tcpReachable } from "./tcp.js";

export interface Provided {
  url: string;
  origin: string;
  stop?: () => Promise<void>;
}

const LOCAL_NATS = "nats://127.0.0.1:4222";
const LOCAL_PG = "postgres://postgres@127.0.0.1:5432/postgres";

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * NATS for the test run: NATS_URL if set; else the machine's NATS on 127.0.0.1:4222;
 * else a nats-server spawned for the run; else a container when Docker is up.
 */
export async function provideNats(): Promise<Provided> {
  const fromEnv = process.env.NATS_URL;
  if (fromEnv) {
    const { host, port } = hostPort(fromEnv.split(",")[0] as string, 4222);
    if (!(await tcpReachable(host, port, 2000))) throw new Error(`NATS_URL=${fromEnv} is not reachable`);
    return { url: fromEnv, origin: "NATS_URL" };
  }
  if (await tcpReachable("127.0.0.1", 4222)) return { url: LOCAL_NATS, origin: "local nats on 127.0.0.1:4222" };
  if (findNatsServer()) {
    const srv = await NatsServer.start();
    return { url: srv.url, origin: `spawned ${srv.bin}`, stop: () => srv.dispose() };
  }
  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import("testcontainers");
    const c = await new GenericContainer("nats:2.10")
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    return { url: `nats://${c.getHost()}:${c.getMappedPort(4222)}`, origin: "testcontainers nats:2.10", stop: async () => void (await c.stop()) };
  }
  throw new Error("no NATS: set NATS_URL, run nats-server with -js on 127.0.0.1:4222, install nats-server, or start Docker");
}

/**
 * Postgres for the test run (an admin URL; each test file makes its own database):
 * DATABASE_URL if set; else the machine's Postgres on 127.0.0.1:5432; else a container.
 */
export async function providePostgres(): Promise<Provided> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv, origin: "DATABASE_URL" };
  if (await tcpReachable("127.0.0.1", 5432)) return { url: LOCAL_PG, origin: "local postgres on 127.0.0.1:5432" };
  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import("testcontainers");
    const c = await new GenericContainer("postgres:16")
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
      .start();
    return {
      url: `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`,
      origin: "testcontainers postgres:16",
      stop: async () => void (await c.stop()),
    };
  }
  throw new Error("no Postgres: set DATABASE_URL, run Postgres on 127.0.0.1:5432, or start Docker");
}
