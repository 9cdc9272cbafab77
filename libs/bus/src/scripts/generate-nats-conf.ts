import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { natsServerConfig } from "../permissions.js";

// Writes deploy/compose/nats.conf; a test fails when the checked-in copy is stale.
const COMPOSE_NATS = { serverName: "isthmus-nats", storeDir: "/data/jetstream" };
// deploy/compose/nats-cluster.yml: one config for the three nodes, each naming itself.
const COMPOSE_NATS_CLUSTER = {
  serverName: { env: "SERVER_NAME" },
  storeDir: "/data/jetstream",
  cluster: { name: "isthmus", routes: ["nats", "nats-2", "nats-3"].map((h) => `nats-route://${h}:6222`) },
};
const target = fileURLToPath(new URL("../../../../deploy/compose/nats.conf", import.meta.url));
writeFileSync(target, natsServerConfig(COMPOSE_NATS));
console.log(`wrote ${target}`);
const clusterTarget = fileURLToPath(new URL("../../../../deploy/compose/nats-cluster.conf", import.meta.url));
writeFileSync(clusterTarget, natsServerConfig(COMPOSE_NATS_CLUSTER));
console.log(`wrote ${clusterTarget}`);
