import { z } from "zod";

/**
 * The fields discovery reads of each kind, with their types (model.ts, service-entry.ts):
 * a manifest object of one of these kinds is used only when they check, so translation
 * never meets a string where a list goes. Other fields pass through; `null` reads as absent,
 * as Kubernetes writes it.
 */
const str = z.string().nullish();
const num = z.number().nullish();
const labels = z.record(z.string(), z.string()).nullish();
const list = <T extends z.ZodType>(item: T) => z.array(item).nullish();
const meta = z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).nullish(), labels });

const workload = z.looseObject({
  address: str,
  ports: z.record(z.string(), z.number()).nullish(),
  labels,
  network: str,
  locality: str,
  serviceAccount: str,
});

export const MANIFEST_SCHEMAS: Record<string, z.ZodType> = {
  Service: z.looseObject({
    metadata: meta,
    spec: z
      .looseObject({
        ports: list(z.looseObject({ name: str, port: num, targetPort: z.union([z.number(), z.string()]).nullish(), protocol: str, appProtocol: str })),
        type: str,
        clusterIP: str,
      })
      .nullish(),
  }),
  EndpointSlice: z.looseObject({
    metadata: meta,
    addressType: str,
    ports: list(z.looseObject({ name: str, port: num, protocol: str, appProtocol: str })),
    endpoints: list(
      z.looseObject({
        addresses: list(z.string()),
        conditions: z.looseObject({ ready: z.boolean().nullish(), serving: z.boolean().nullish(), terminating: z.boolean().nullish() }).nullish(),
        targetRef: z.looseObject({ kind: str, name: str, namespace: str }).nullish(),
        nodeName: str,
        zone: str,
      }),
    ),
  }),
  Pod: z.looseObject({ metadata: meta, spec: z.looseObject({ serviceAccountName: str, nodeName: str }).nullish() }),
  Node: z.looseObject({ metadata: meta }),
  ServiceEntry: z.looseObject({
    metadata: meta,
    spec: z
      .looseObject({
        hosts: list(z.string()),
        ports: list(z.looseObject({ number: num, name: str, protocol: str, targetPort: num })),
        endpoints: list(workload),
        workloadSelector: z.looseObject({ labels }).nullish(),
      })
      .nullish(),
  }),
  WorkloadEntry: z.looseObject({ metadata: meta, spec: workload.nullish() }),
};

/** Why this object of a kind discovery reads has a field of the wrong type, or undefined. */
export function schemaProblem(obj: { kind: string }): string | undefined {
  const schema = MANIFEST_SCHEMAS[obj.kind];
  if (!schema) return undefined;
  const r = schema.safeParse(obj);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  return issue ? `${issue.path.join(".") || "(object)"}: ${issue.message}` : "invalid";
}
