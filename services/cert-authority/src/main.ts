#!/usr/bin/env node
import { startTelemetry } from "@isthmus/telemetry";
import { configFromEnv } from "./config.js";
import { startCertAuthority } from "./service.js";

const tel = await startTelemetry({ serviceName: "cert-authority" });
const log = tel.logger;
try {
  // Not ready until started: starting waits for the mesh's streams, which the operator provisions.
  let started = false;
  tel.health.addCheck("started", () => started);
  const ca = await startCertAuthority({ ...configFromEnv(), log });
  started = true;
  tel.health.addCheck("ca", () => ca.ready());
  log.info({ grpcPort: ca.grpcPort, health: tel.health.url }, "cert-authority ready");
  process.stdout.write(`cert-authority listening on ${ca.grpcPort}\n`);
  const stop = async () => {
    log.info("stopping");
    tel.health.markShuttingDown();
    await ca.stop();
    await tel.shutdown();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (err) {
  log.error({ err }, "cert-authority failed to start");
  process.stderr.write(`cert-authority: ${(err as Error).message}\n`);
  process.exit(1);
}
