import { freePort } from "./free-port.js";
import { NatsServer } from "./nats-server.js";
import { waitFor } from "./wait.js";

export interface NatsClusterOptions {
  /** Number of nodes (default 3). */
  size?: number;
  /** Cluster name (default "isthmus"). */
  name?: string;
  /** Extra config lines for every node (authorization, TLS, ...). */
  config?: string;
  /** fsync every JetStream write where the server supports it. */
  syncAlways?: boolean;
  /** Each node in a process group of its own (see NatsServerOptions). */
  ownProcessGroup?: boolean;
}

/** One node's monitoring answer, as its /healthz gives it. */
async function healthy(monitorPort: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * A NATS cluster of real nats-server processes on free ports, each with its own JetStream
 * store and monitoring port, routed to every other: for tests that kill nodes under load.
 * Nodes keep their ports and stores across kill/start, as a pod on a persistent volume does.
 */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsServer[],
    private readonly monitorPorts: number[],
  ) {}

  static async start(o: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = o.size ?? 3;
    const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const monitorPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routes = routePorts.map((p) => JSON.stringify(`nats-route://127.0.0.1:${p}`)).join(", ");
    // Started together: a clustered JetStream node waits for its peers to elect a meta leader.
    const nodes = await Promise.all(
      clientPorts.map((port, i) =>
        NatsServer.start({
          port,
          ...(o.syncAlways ? { syncAlways: true } : {}),
          ...(o.ownProcessGroup ? { ownProcessGroup: true } : {}),
          config: [
            `http: "127.0.0.1:${monitorPorts[i]}"`,
            `cluster { name: ${JSON.stringify(o.name ?? "isthmus")}, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`,
            o.config ?? "",
          ].join("\n"),
        }),
      ),
    );
    const cluster = new NatsCluster(nodes, monitorPorts);
    try {
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
    return cluster;
  }

  /** Every node's client URL: the seed list a client connects with. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The node with this server_name (as stream infos name leaders). */
  node(name: string): NatsServer {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node named ${name} in the cluster (${this.nodes.map((x) => x.name).join(", ")})`);
    return n;
  }

  /** Until every running node reports healthy JetStream (a meta leader, streams current). */
  async waitHealthy(ms = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const up = this.nodes.map((n, i) => (n.running ? healthy(this.monitorPorts[i] as number) : Promise.resolve(true)));
        return (await Promise.all(up)).every(Boolean);
      },
      ms,
      "every running NATS node healthy",
    );
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }
}
