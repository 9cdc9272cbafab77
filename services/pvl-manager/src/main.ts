#!/usr/bin/env node
import { startTelemetry } from "@isthmus/telemetry";
import { configFromEnv } from "./config.js";
import { startPvlManager } from "./service.js";

const tel = await startTelemetry({ serviceName: "pvl-manager" });
try {
  // Not ready until started: starting waits for the mesh's streams, which the operator provisions.
  let started = false;
  tel.health.addCheck("started", () => started);
  const m = await startPvlManager({ ...(await configFromEnv()), log: tel.logger });
  started = true;
  tel.health.addCheck("database", () => m.store.ping());
  process.stdout.write("pvl-manager ready\n");
  const stop = async () => {
    tel.health.markShuttingDown();
    await m.stop();
    await tel.shutdown();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (err) {
  tel.logger.error({ err }, "pvl-manager failed to start");
  process.stderr.write(`pvl-manager: ${(err as Error).message}\n`);
  process.exit(1);
}
