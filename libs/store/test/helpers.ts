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

export function until(cond: () => boolean | Promise<boolean>, ms = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await cond()) return resolve();
      } catch {
        // not yet
      }
      if (Date.now() > end) return reject(new Error(`${what} not met in ${ms} ms`));
      setTimeout(tick, 25);
    };
    void tick();
  });
}
