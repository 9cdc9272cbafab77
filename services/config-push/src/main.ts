#!/usr/bin/env node
import { startTelemetry } from "@isthmus/telemetry";
import { configFromEnv } from "./config.js";
import { startConfigPush } from "./service.js";

const tel = await startTelemetry({ serviceName: "config-push" });
try {
  const cp = await startConfigPush({ ...configFromEnv(), log: tel.logger });
  let ready = false;
  void cp.ready.then(() => {
    ready = true;
  });
  tel.health.addCheck("model", () => ready);
  tel.health.addCheck("streams", () => cp.following());
  for (const [path, handler] of Object.entries(cp.debug)) tel.health.addRoute(path, handler);
  process.stdout.write(`config-push serving xDS on ${cp.port}\n`);
  const stop = async () => {
    tel.health.markShuttingDown();
    await cp.stop();
    await tel.shutdown();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (err) {
  tel.logger.error({ err }, "config-push failed to start");
  process.stderr.write(`config-push: ${(err as Error).message}\n`);
  process.exit(1);
}
