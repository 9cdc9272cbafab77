import { busOptionsFromEnv } from "@isthmus/bus";
import type { ConsoleOptions } from "./service.js";

/**
 * MESH_ID, CONSOLE_HOST (127.0.0.1), CONSOLE_PORT (20001), CONSOLE_TOKEN (login token, needed beyond
 * loopback), CONSOLE_TLS_CERT + CONSOLE_TLS_KEY, CONSOLE_ALLOW_NO_AUTH, CONSOLE_CONFIG_PUSH_DEBUG_URL,
 * CONSOLE_WRITE (refused: not available yet), NATS_* (a read-only NATS user is enough).
 */
export function consoleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleOptions {
  if (Boolean(env.CONSOLE_TLS_CERT) !== Boolean(env.CONSOLE_TLS_KEY)) throw new Error("CONSOLE_TLS_CERT and CONSOLE_TLS_KEY go together");
  const flag = (name: string) => {
    const v = env[name];
    if (v === undefined || v === "" || v === "false") return false;
    if (v === "true") return true;
    throw new Error(`${name} must be true or false, not ${JSON.stringify(v)}`);
  };
  const port = Number(env.CONSOLE_PORT ?? 20001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`CONSOLE_PORT must be a port number, not ${JSON.stringify(env.CONSOLE_PORT)}`);
  return {
    mesh: env.MESH_ID ?? "default",
    bus: busOptionsFromEnv(env, "isthmus-console"),
    host: env.CONSOLE_HOST ?? "127.0.0.1",
    port,
    allowNoAuth: flag("CONSOLE_ALLOW_NO_AUTH"),
    write: flag("CONSOLE_WRITE"),
    ...(env.CONSOLE_TOKEN ? { token: env.CONSOLE_TOKEN } : {}),
    ...(env.CONSOLE_TLS_CERT && env.CONSOLE_TLS_KEY ? { tls: { certFile: env.CONSOLE_TLS_CERT, keyFile: env.CONSOLE_TLS_KEY } } : {}),
    ...(env.CONSOLE_CONFIG_PUSH_DEBUG_URL ? { configPushDebugUrl: env.CONSOLE_CONFIG_PUSH_DEBUG_URL } : {}),
  };
}
