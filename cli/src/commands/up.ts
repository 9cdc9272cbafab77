import { Bus, busOptionsFromEnv, provisionMeshStreams } from "@isthmus/bus";
import { assertMeshId } from "@isthmus/events";
import { startTelemetry } from "@isthmus/telemetry";
import { findNatsServer, hostPort, NatsServer, tcpReachable } from "@isthmus/testing";

export interface UpOptions {
  mesh: string;
  healthPort: number;
}

async function natsForStack(log: (s: string) => void): Promise<{ url: string; stop: () => Promise<void>; origin: string }> {
  const fromEnv = process.env.NATS_URL;
  if (fromEnv) return { url: fromEnv, stop: async () => {}, origin: "NATS_URL" };
  const { host, port } = hostPort("nats://127.0.0.1:4222", 4222);
  if (await tcpReachable(host, port)) return { url: "nats://127.0.0.1:4222", stop: async () => {}, origin: "already running on 127.0.0.1:4222" };
  if (!findNatsServer()) {
    throw new Error("no NATS: set NATS_URL, or install nats-server (Debian/Ubuntu: sudo apt-get install -y nats-server; macOS: brew install nats-server)");
  }
  log("starting nats-server with JetStream ...");
  const srv = await NatsServer.start();
  return { url: srv.url, stop: () => srv.dispose(), origin: `started ${srv.bin}` };
}

/**
 * The local control plane on one machine, no Docker. Today it brings up the event
 * backbone (NATS + the mesh's streams) and the stack's health endpoint; the services
 * join here as they land.
 */
export async function up(o: UpOptions): Promise<void> {
  assertMeshId(o.mesh);
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const nats = await natsForStack(say);
  const tel = await startTelemetry({ serviceName: "isthmus-up", port: o.healthPort });
  const bus = await Bus.connect({ ...busOptionsFromEnv({ ...process.env, NATS_URL: nats.url }, "isthmus-up"), waitOnFirstConnect: false });
  tel.health.addCheck("nats", () => bus.connected);
  const streams = await provisionMeshStreams(bus.jsm, o.mesh);
  say("");
  say(`Isthmus local stack — mesh "${o.mesh}"`);
  say(`  NATS JetStream   ${nats.url}  (${nats.origin})`);
  say(`  event streams    ${streams.map((s) => `${s.stream} (${s.action})`).join(", ")}`);
  say(`  health           ${tel.health.url}/healthz  ${tel.health.url}/readyz`);
  say(`  metrics          ${tel.health.url}/metrics`);
  say("  services         none yet: discovery, config-push, cert-authority and pvl-manager join as they land");
  say("");
  say(`Watch events:  NATS_URL=${nats.url} node cli/dist/main.js events tail --mesh ${o.mesh} --format table`);
  say("Ctrl-C stops everything.");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  say("stopping ...");
  await tel.shutdown();
  await bus.close();
  await nats.stop();
  say("stopped.");
}
