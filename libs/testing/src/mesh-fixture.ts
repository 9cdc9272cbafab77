import { Bus, type MeshStreamOptions, meshStreamSpecs, provisionMeshStreams } from "@isthmus/bus";
import { testNatsUrl, uniqueMeshId } from "./nats.js";

export interface MeshFixture {
  bus: Bus;
  mesh: string;
  /** Deletes the mesh's streams and closes the connection. */
  dispose(): Promise<void>;
}

/** A connected bus and a mesh of the test's own with every stream provisioned. */
export async function meshFixture(prefix: string, opts: MeshStreamOptions & { servers?: string | string[] } = {}): Promise<MeshFixture> {
  const { servers, ...streamOpts } = opts;
  const bus = await Bus.connect({ servers: servers ?? testNatsUrl(), waitOnFirstConnect: false });
  const mesh = uniqueMeshId(prefix);
  await provisionMeshStreams(bus.jsm, mesh, streamOpts);
  return {
    bus,
    mesh,
    async dispose() {
      for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
      await bus.close();
    },
  };
}
