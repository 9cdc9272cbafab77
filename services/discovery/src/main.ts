#!/usr/bin/env node
import { startTelemetry } from "@isthmus/telemetry";
import { configFromEnv } from "./config.js";
import { startDiscovery } from "./service.js";

const tel = await startTelemetry({ serviceName: "discovery" });
try {
  // Not ready until started: starting waits for the mesh's streams, which the operator provisions.
  let started = false;
  tel.health.addCheck("started", () => started);
  const d = await startDiscovery({ ...configFromEnv(), log: tel.logger });
  started = true;
  tel.health.addCheck("discovery", () => d.ready());
  tel.logger.info({ health: tel.health.url, leading: d.leading() }, "discovery ready");
  process.stdout.write(`discovery ready; leading ${d.leading().join(", ") || "no cluster yet"}\n`);
  const stop = async () => {
    tel.health.markShuttingDown();
    await d.stop();
    await tel.shutdown();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (err) {
  tel.logger.error({ err }, "discovery failed to start");
  process.stderr.write(`discovery: ${(err as Error).message}\n`);
  process.exit(1);
}
