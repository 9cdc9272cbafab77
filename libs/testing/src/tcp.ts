import { connect } from "node:net";

/** Whether something accepts TCP connections at host:port within the timeout. */
export function tcpReachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

export async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tcpReachable(host, port, 250)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url.includes("://") ? url : `nats://${url}`);
  return { host: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : defaultPort };
}
