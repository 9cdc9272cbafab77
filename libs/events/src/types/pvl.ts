import { z } from "zod";
import { defineEvent } from "../registry.js";
import { isoTime } from "./common.js";

export const pvlStatusChangedV1 = defineEvent({
  type: "io.isthmus.pvl.status_changed.v1",
  domain: "pvl",
  kind: "state",
  description: "The reconciled status of an ASMPvlConfig, with its conditions.",
  path: ["config", ":name"],
  schema: z.object({
    name: z.string().min(1),
    status: z.string(),
    conditions: z.array(
      z.object({ type: z.string(), status: z.enum(["True", "False", "Unknown"]), reason: z.string(), message: z.string(), lastTransitionTime: isoTime }),
    ),
    resourceStatus: z.record(z.string(), z.unknown()).describe("the .status written to the resource"),
  }),
  keyOf: (d) => ({ name: d.name }),
});
