import { z } from "zod";
import { defineEvent } from "../registry.js";
import { isoTime } from "./common.js";

const typeStatus = z.object({
  latest: z.string().optional().describe("the version config-push had for this type when the status was taken"),
  sent: z.string().optional(),
  acked: z.string().optional(),
  nacked: z.string().optional(),
  error: z.string().optional(),
});

export const proxyStatusV1 = defineEvent({
  type: "io.isthmus.push.proxy_status.v1",
  domain: "push",
  kind: "state",
  description: "xDS sync state of one proxy: per resource type the version sent, acked and nacked.",
  path: ["proxy", ":proxyId"],
  schema: z.object({
    proxyId: z.string().min(1),
    instance: z.string().describe("the config-push instance serving it"),
    connected: z.boolean(),
    since: isoTime,
    types: z.record(z.string(), typeStatus),
  }),
  keyOf: (d) => ({ proxyId: d.proxyId }),
});
