import { streamName } from "@isthmus/events";
import { JetStreamApiError, type JetStreamManager, type StreamSource } from "@nats-io/jetstream";
import { provisionMeshStreams } from "./streams.js";

/** Where a remote control plane's config-push reads the hub's state (mirrors in the leaf's JetStream domain). */
export const hubStreamName = (mesh: string, domain: "discovery" | "config") => `HUB_${streamName(mesh, domain)}`;

async function exists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) return false; // stream not found
    throw err;
  }
}

/**
 * The streams of a remote control plane (seeds 000/001) on a NATS leaf node with its own
 * JetStream domain, and their link to the hub:
 * - the leaf keeps its own mesh streams: its cluster's discovery, its CA, its proxies' status;
 * - the hub's DISCOVERY and CONFIG are mirrored into the leaf (`HUB_…`), one flow over the
 *   WAN whatever the number of proxies, resumed where it stopped after a cut;
 * - the hub's DISCOVERY sources the leaf's, so the rest of the mesh sees the remote
 *   cluster's services. No loop: the leaf's DISCOVERY holds only its own cluster's states.
 */
export async function provisionRemoteControlPlane(o: {
  hub: JetStreamManager;
  leaf: JetStreamManager;
  mesh: string;
  hubDomain: string;
  leafDomain: string;
}): Promise<void> {
  await provisionMeshStreams(o.leaf, o.mesh);
  for (const domain of ["discovery", "config"] as const) {
    const name = hubStreamName(o.mesh, domain);
    if (await exists(o.leaf, name)) continue;
    await o.leaf.streams.add({
      name,
      description: `The hub's ${domain} events of mesh ${o.mesh}, mirrored`,
      mirror: { name: streamName(o.mesh, domain), external: { api: `$JS.${o.hubDomain}.API`, deliver: "" } },
      max_msgs_per_subject: 8,
    });
  }
  await provisionMeshStreams(o.hub, o.mesh);
  const hubDiscovery = streamName(o.mesh, "discovery");
  const info = await o.hub.streams.info(hubDiscovery);
  const api = `$JS.${o.leafDomain}.API`;
  const sources: StreamSource[] = info.config.sources ?? [];
  if (!sources.some((s) => s.external?.api === api)) {
    await o.hub.streams.update(hubDiscovery, { ...info.config, sources: [...sources, { name: hubDiscovery, external: { api, deliver: "" } }] });
  }
}
