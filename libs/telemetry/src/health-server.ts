import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export type Check = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  port?: number;
  host?: string;
  /** Serve over TLS with these PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** Prometheus exposition, mounted at /metrics. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * /healthz: the process is alive and its loop turns.
 * /readyz: every registered dependency answers (NATS, database, ...); 503 and which not.
 * /metrics: Prometheus text format.
 */
export class HealthServer {
  private readonly checks = new Map<string, Check>();
  private readonly routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>();
  private server: Server | undefined;
  private shuttingDown = false;

  constructor(private readonly opts: HealthServerOptions = {}) {}

  /** A readiness dependency: the service is ready only when it returns true. */
  addCheck(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  /** A service's own endpoint on this server (debug and status pages), by exact path. */
  addRoute(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): void {
    this.routes.set(path, handler);
  }

  /** Turn readiness off before a graceful shutdown so traffic moves away first. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          checks[name] = (await Promise.race([check(), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))])) === true;
        } catch {
          checks[name] = false;
        }
      }),
    );
    return { ready: !this.shuttingDown && Object.values(checks).every(Boolean), checks };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
    } else if (path === "/readyz") {
      const r = await this.readiness();
      const body = JSON.stringify({ status: r.ready ? "ready" : "not ready", shuttingDown: this.shuttingDown, checks: r.checks });
      res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json" }).end(body);
    } else if (path === "/metrics" && this.opts.metrics) {
      this.opts.metrics(req, res);
    } else if (path && this.routes.has(path)) {
      await this.routes.get(path)?.(req, res);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  }

  async listen(): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    };
    const tls = this.opts.tls;
    this.server = tls ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    if (!a) throw new Error("health server not listening");
    return `${this.opts.tls ? "https" : "http"}://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((r) => s.close(() => r()));
    s.closeAllConnections?.();
  }
}
