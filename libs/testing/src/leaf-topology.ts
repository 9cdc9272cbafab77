import { randomBytes } from "node:crypto";
import { Bus } from "@isthmus/bus";
import { freePort } from "./free-port.js";
import { NatsServer } from "./nats-server.js";
import { waitFor } from "./wait.js";
import { WanLink, type WanLinkOptions } from "./wan-link.js";

export interface LeafTopology {
  hub: NatsServer;
  leaf: NatsServer;
  /** The emulated WAN between the leaf node and the hub's leaf-node listener. */
  wan: WanLink;
  hubDomain: string;
  leafDomain: string;
  /** The hub's leaf credentials (user `leaf`). */
  leafPassword: string;
  dispose(): Promise<void>;
}

/**
 * A hub nats-server and a leaf node of it (own JetStream domain) joined through a WAN link,
 * as a remote control plane runs: the leaf authenticates as `leaf`, and only JetStream flows
 * cross (the mesh's subjects are denied both ways). Resolves once the hub's JetStream
 * answers through the leaf.
 */
export async function startLeafTopology(o: WanLinkOptions & { hubDomain?: string; leafDomain?: string }): Promise<LeafTopology> {
  const hubDomain = o.hubDomain ?? "hub";
  const leafDomain = o.leafDomain ?? "leaf";
  const leafPassword = randomBytes(12).toString("hex");
  const leafPort = await freePort();
  const wan = await WanLink.start({ host: "127.0.0.1", port: leafPort }, o);
  const hub = await NatsServer.start({
    domain: hubDomain,
    // The hub tells leaf nodes where to reconnect: the WAN link's address, or after a cut
    // they would come back straight to its listener, around the emulated WAN.
    config: `leafnodes { listen: "127.0.0.1:${leafPort}", advertise: "127.0.0.1:${wan.port}", authorization { user: "leaf", password: "${leafPassword}" } }`,
  });
  const leaf = await NatsServer.start({
    domain: leafDomain,
    config: `leafnodes { remotes: [ { url: "nats-leaf://leaf:${leafPassword}@127.0.0.1:${wan.port}", deny_imports: ["mesh.>"], deny_exports: ["mesh.>"] } ] }`,
  });
  const bus = await Bus.connect({ servers: leaf.url, waitOnFirstConnect: false });
  try {
    await waitFor(
      () =>
        bus.nc.request(`$JS.${hubDomain}.API.INFO`, undefined, { timeout: 1_000 }).then(
          () => true,
          () => false,
        ),
      30_000,
      "leaf node joined the hub",
    );
  } finally {
    await bus.close();
  }
  return {
    hub,
    leaf,
    wan,
    hubDomain,
    leafDomain,
    leafPassword,
    async dispose() {
      await leaf.dispose();
      await wan.close();
      await hub.dispose();
    },
  };
}
