import { MeshModel, type ServiceState, translate, type View } from "@isthmus/config-push";
import { type AnyMessage, validateXds } from "@isthmus/xds";
import { type Figures, report, round } from "./report.js";
import { benchService } from "./xds-services.js";

const S = Number(process.env.BENCH_XDS_SERVICES ?? 1000);
const ROUNDS = Number(process.env.BENCH_XDS_VALIDATE_ROUNDS ?? 5);

/**
 * The Envoy-constraint validator (libs/xds validate) over bench/xds's mesh of S services,
 * translated for a proxyless client and for an Envoy sidecar: µs per resource, the median
 * of ROUNDS full passes after one warm-up (which also compiles the rules).
 */
export async function benchXdsValidate(): Promise<void> {
  const model = new MeshModel();
  for (let i = 0; i < S; i++) model.upsert(`svc-${i}`, benchService("bench", "c1", i, 0).event.data as ServiceState);
  const figures: Figures = { services: S, rounds: ROUNDS };
  const views: Array<[string, View]> = [
    ["grpc", { flavour: "grpc", network: "", inbound: [] }],
    ["envoy", { flavour: "envoy", network: "", inbound: [{ port: 8080, protocol: "GRPC", namespace: "bench" }] }],
  ];
  for (const [name, view] of views) {
    const resources: AnyMessage[] = [...translate(model, view).values()].flatMap((m) => [...m.values()].map((r) => r.build()));
    const bytes = resources.reduce((n, r) => n + r.value.length, 0);
    const warm = validateXds(resources);
    if (warm.some((v) => v.severity === "error")) throw new Error(`the bench mesh itself breaks Envoy's constraints: ${warm[0]?.message}`);
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      validateXds(resources);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] as number;
    figures[`${name}_resources`] = resources.length;
    figures[`${name}_bytes_per_resource`] = round(bytes / resources.length, 1);
    figures[`${name}_ms_per_pass`] = round(median, 1);
    figures[`${name}_us_per_resource`] = round((median * 1000) / resources.length, 2);
    figures[`${name}_mb_per_s`] = round(bytes / 1e6 / (median / 1000), 1);
  }
  report("xds-validate", figures);
}
