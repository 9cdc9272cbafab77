import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A userland TCP relay on 127.0.0.1 in front of a switchable target: failover tests point
 * clients at it and move it; link tests cut it. (The WAN-link emulator builds on this.)
 */
export class TcpRelay {
  private readonly sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;
  private constructor(
    private readonly server: Server,
    private target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    const server = createServer();
    const relay = new TcpRelay(server, target);
    server.on("connection", (client) => relay.accept(client));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = createConnection(this.target);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** New connections go here from now on. */
  setTarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  /** Cut every open connection (clients reconnect through the relay). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
