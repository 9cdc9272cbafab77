import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { natsServerConfig } from "../permissions.js";

// Writes deploy/compose/nats.conf; a test fails when the checked-in copy is stale.
const COMPOSE_NATS = { serverName: "isthmus-nats", storeDir: "/data/jetstream" };
const target = fileURLToPath(new URL("../../../../deploy/compose/nats.conf", import.meta.url));
writeFileSync(target, natsServerConfig(COMPOSE_NATS));
console.log(`wrote ${target}`);
