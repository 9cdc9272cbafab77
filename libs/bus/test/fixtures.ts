import { buildEvent, serviceStateV1 } from "@isthmus/events";

/** A minimal service state of cluster c1, namespace default. */
export const serviceState = (mesh: string, name: string) =>
  buildEvent(
    serviceStateV1,
    mesh,
    { cluster: "c1", namespace: "default", name, hostname: `${name}.default.svc.cluster.local`, ports: [], endpoints: [], stale: false },
    { source: "test" },
  );
