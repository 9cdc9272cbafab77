import { buildEvent, serviceStateV1 } from "@isthmus/events";

/**
 * Service `svc-<i>` of namespace `bench` in a cluster, as discovery would publish it: two
 * endpoints whose addresses move with `gen`, so publishing gen + 1 is one endpoint change.
 */
export function benchService(mesh: string, cluster: string, i: number, gen: number) {
  return buildEvent(
    serviceStateV1,
    mesh,
    {
      cluster,
      namespace: "bench",
      name: `svc-${i}`,
      hostname: `svc-${i}.bench.svc.cluster.local`,
      ports: [{ name: "grpc", port: 8080, protocol: "GRPC" }],
      endpoints: [0, 1].map((k) => ({
        address: `10.${i >> 8}.${i & 255}.${((gen * 2 + k) % 250) + 1}`,
        ports: { grpc: 8080 },
        ready: true,
        serving: true,
        terminating: false,
        cluster,
        network: "",
        locality: { region: "r", zone: cluster, subzone: "" },
        labels: { app: `svc-${i}` },
      })),
      stale: false,
    },
    { source: "bench" },
  );
}
