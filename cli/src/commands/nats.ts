import { Bus, busOptionsFromEnv, provisionMeshStreams, provisionRemoteControlPlane } from "@isthmus/bus";
import { assertMeshId } from "@isthmus/events";

/**
 * `isthmus nats provision`: the mesh's streams, created or brought up to date. The services'
 * own credentials may not administer streams, so this (the chart's Job, compose's one-shot,
 * `isthmus up`) is how they come to exist.
 */
export async function natsProvision(o: { mesh: string; replicas: number }): Promise<void> {
  assertMeshId(o.mesh);
  const bus = await Bus.connect({ ...busOptionsFromEnv(process.env, "isthmus-cli"), waitOnFirstConnect: false });
  try {
    for (const r of await provisionMeshStreams(bus.jsm, o.mesh, { replicas: o.replicas })) {
      process.stdout.write(`${r.stream}: ${r.action}${r.changed.length ? ` (${r.changed.join(", ")})` : ""}\n`);
    }
  } finally {
    await bus.close();
  }
}

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
