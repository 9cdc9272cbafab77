import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface WanLinkOptions {
  /** Round-trip time added by the link (half each way). */
  rttMs: number;
  /** Bandwidth each way, in bytes per second (unlimited when 0). */
  bytesPerSecond: number;
}

/** One direction of the link: bytes leave after the propagation delay, no faster than the bandwidth. */
class Pipe {
  private freeAt = 0;
  constructor(
    private readonly link: WanLink,
    private readonly to: Socket,
    private readonly count: (n: number) => void,
  ) {}

  push(chunk: Buffer): void {
    const o = this.link.options;
    const now = performance.now();
    const serialisation = o.bytesPerSecond > 0 ? (chunk.length / o.bytesPerSecond) * 1000 : 0;
    this.freeAt = Math.max(this.freeAt, now) + serialisation;
    const at = this.freeAt + o.rttMs / 2;
    this.count(chunk.length);
    // Timers fire in order of their due time, so chunks stay in order.
    setTimeout(
      () => {
        if (!this.to.destroyed) this.to.write(chunk);
      },
      Math.max(0, at - now),
    );
  }
}

/**
 * A userland WAN link emulator: a TCP proxy on 127.0.0.1 that adds latency, limits
 * bandwidth, counts connections and bytes each way, and can be cut (every connection
 * reset, new ones refused) and healed.
 */
export class WanLink {
  private readonly sockets = new Set<Socket>();
  private up = true;
  connections = 0;
  bytesOut = 0;
  bytesIn = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
    readonly options: WanLinkOptions,
  ) {}

  static async start(target: { host: string; port: number }, options: WanLinkOptions): Promise<WanLink> {
    const server = createServer();
    const link = new WanLink(server, target, options);
    server.on("connection", (client) => link.accept(client));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return link;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Bytes both ways so far. */
  get bytes(): number {
    return this.bytesOut + this.bytesIn;
  }

  private accept(client: Socket): void {
    if (!this.up) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = createConnection(this.target);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      s.on("end", () => {
        client.end();
        upstream.end();
      });
    }
    const out = new Pipe(this, upstream, (n) => {
      this.bytesOut += n;
    });
    const back = new Pipe(this, client, (n) => {
      this.bytesIn += n;
    });
    client.on("data", (c: Buffer) => out.push(c));
    upstream.on("data", (c: Buffer) => back.push(c));
  }

  /** The link goes down: every connection is reset and new ones are refused until `heal`. */
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
