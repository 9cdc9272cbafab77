import { fileURLToPath } from "node:url";
import { buildEvent, configResourceV1 } from "@isthmus/events";

export const migrationsFolder = fileURLToPath(new URL("./fixture/drizzle", import.meta.url));

/** An event of aggregate `agg` at `position`, on the aggregate's own subject. */
export function positioned(mesh: string, agg: string, position: number) {
  return buildEvent(
    configResourceV1,
    mesh,
    { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "ns", name: agg, labels: {}, spec: { position } },
    { source: "store-test" },
  );
}

export { waitFor as until } from "@isthmus/testing";
