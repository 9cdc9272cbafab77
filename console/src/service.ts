import { Bus, type BusConnectOptions } from "@isthmus/bus";
import { streamName } from "@isthmus/events";
import { FOLLOWED, followMesh } from "./adapters/follow.js";
import { configHistory } from "./adapters/history.js";
import { startConsoleHttp } from "./adapters/http.js";
import { readOnlyWriter } from "./adapters/writer.js";
import { type AccessOptions, accessProblem } from "./domain/access.js";
import { ReadModel } from "./domain/read-model.js";
import { redactSecrets } from "./domain/redact.js";

export interface ConsoleOptions extends AccessOptions {
  mesh: string;
  bus: BusConnectOptions;
  port: number;
  /** config-push's health/debug URL (its /debug/config_dump), for proxies' config dumps. */
  configPushDebugUrl?: string;
  /** Writing through the console is not available yet: true is refused, never ignored. */
  write?: boolean;
  /** How often the console samples the mesh for its charts. */
  sampleMs?: number;
  log?: (msg: string) => void;
}

export interface RunningConsole {
  url: string;
  model: ReadModel;
  /** Resolves once every followed stream has been read to its end. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const problem = accessProblem(o);
  if (problem) throw new Error(problem);
  if (o.write)
    throw new Error(
      "CONSOLE_WRITE: writing through the console is not available yet (it will go through the config admission path of `isthmus apply`); the console runs read-only",
    );
  const bus = await Bus.connect({ ...o.bus, name: o.bus.name ?? "isthmus-console" });
  const model = new ReadModel(
    o.mesh,
    FOLLOWED.map((d) => streamName(o.mesh, d)),
    readOnlyWriter.enabled,
  );
  const caughtUp = new Promise<void>((resolve) => {
    if (model.caughtUp) return resolve();
    const off = model.subscribe((u) => {
      if (u.op === "caught-up") {
        off();
        resolve();
      }
    });
  });
  const follower = followMesh(bus, model, log);
  const sampler = setInterval(() => model.sample(Date.now()), o.sampleMs ?? 10_000);
  const debugUrl = o.configPushDebugUrl;
  let http: Awaited<ReturnType<typeof startConsoleHttp>>;
  try {
    http = await startConsoleHttp({
      ...o,
      model,
      log,
      writer: readOnlyWriter,
      history: (subject) => configHistory(bus, o.mesh, subject),
      ...(debugUrl
        ? {
            proxyConfig: async (id: string) => {
              const r = await fetch(new URL(`/debug/config_dump?proxyID=${encodeURIComponent(id)}`, debugUrl), { signal: AbortSignal.timeout(5_000) });
              return { status: r.status, body: redactSecrets(await r.json()) };
            },
          }
        : {}),
    });
  } catch (e) {
    clearInterval(sampler);
    await follower.stop();
    await bus.close();
    throw e;
  }
  return {
    url: http.url,
    model,
    caughtUp,
    async stop() {
      clearInterval(sampler);
      await http.close();
      await follower.stop();
      await bus.close();
    },
  };
}
