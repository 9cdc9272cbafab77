import { z } from "zod";

export const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label");
export const k8sName = z.string().min(1).max(253);
export const isoTime = z.iso.datetime({ offset: true });
export const locality = z
  .object({ region: z.string().default(""), zone: z.string().default(""), subzone: z.string().default("") })
  .describe("Where an endpoint runs, from topology.kubernetes.io labels of its node.");
