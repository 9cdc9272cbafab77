import { Bus, busOptionsFromEnv, provisionRemoteControlPlane } from "@isthmus/bus";

/** `isthmus nats provision-remote`: a remote control plane's streams on its leaf node, mirrors of the hub's, and the hub's sourcing of the leaf. */
export async function natsProvisionRemote(o: { mesh: string; hubDomain: string; leafDomain: string }): Promise<void> {
  const opts = { ...busOptionsFromEnv(process.env, "isthmus-cli"), waitOnFirstConnect: false };
  const leaf = await Bus.connect(opts);
  const hub = await Bus.connect({ ...opts, jsDomain: o.hubDomain });
  try {
    await provisionRemoteControlPlane({ hub: hub.jsm, leaf: leaf.jsm, mesh: o.mesh, hubDomain: o.hubDomain, leafDomain: o.leafDomain });
    process.stdout.write(`mesh ${o.mesh}: leaf domain ${o.leafDomain} mirrors hub domain ${o.hubDomain}; the hub sources the leaf's discovery\n`);
  } finally {
    await hub.close();
    await leaf.close();
  }
}
