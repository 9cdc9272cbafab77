#!/usr/bin/env node
import { consoleConfigFromEnv } from "./config.js";
import { startConsole } from "./service.js";

try {
  const c = await startConsole(consoleConfigFromEnv());
  process.stdout.write(`isthmus console on ${c.url}\n`);
  const stop = async () => {
    await c.stop();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (err) {
  process.stderr.write(`isthmus-console: ${(err as Error).message}\n`);
  process.exit(1);
}
