import { z } from "zod";

/** A schema violation at a field path (`spec.http.0.route`), empty path for the whole object. */
export interface SchemaIssue {
  path: string;
  message: string;
}

export function zodIssues(schema: z.ZodType, obj: unknown): SchemaIssue[] {
  const r = schema.safeParse(obj);
  if (r.success) return [];
  return r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/, "must be a Kubernetes quantity such as 500m or 1Gi"), z.number().nonnegative()]);
const resourceList = z.record(z.string(), quantity);

/**
 * ASM's ASMMeshConfig (istio.alibabacloud.com/v1beta1, cluster-scoped, named `default`), the
 * part seeds 000/001 use: `externalIstiodConfigurations.<clusterId>` turns that cluster's
 * remote control plane on with `replicas` and optional pod `resources`. Other fields are
 * kept and reported by admission as not supported.
 */
export const asmMeshConfigSpecSchema = z.looseObject({
  externalIstiodConfigurations: z
    .record(
      z.string().min(1),
      z.looseObject({
        replicas: z.number().int().min(0).max(100),
        resources: z.looseObject({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
      }),
    )
    .optional(),
});

export const asmMeshConfigSchema = z.looseObject({
  metadata: z.looseObject({ name: z.literal("default", "ASMMeshConfig must be named default") }),
  spec: asmMeshConfigSpecSchema,
});

const vSwitch = z.object({ vSwitchId: z.string().min(1), zoneId: z.string().min(1) });

/** ASMPvlConfig's spec (seed 004), the one definition pvl-manager reconciles. */
export const pvlSpecSchema = z.object({
  ackVpcEndpoint: z.array(z.object({ clusterId: z.string().min(1), vSwitches: z.array(vSwitch).min(1) })).min(1),
  asmVpcEndpoint: z.object({ vSwitches: z.array(vSwitch).min(1) }),
});
export type PvlSpec = z.infer<typeof pvlSpecSchema>;

export const asmPvlConfigSchema = z.looseObject({ spec: pvlSpecSchema });

/** What pvl-manager honours: the whole ASMPvlConfig spec it reconciles. */
export const ASM_SUPPORT = {
  ASMPvlConfig: { fields: ["spec.**"] },
} as const;
