import type { SupportTable } from "@isthmus/config";

/** What pvl-manager honours of ASMPvlConfig: the whole seed 004 spec (admission reports anything else). */
export const PVL_SUPPORT: SupportTable = {
  ASMPvlConfig: {
    fields: [
      "spec.ackVpcEndpoint[]",
      "spec.ackVpcEndpoint[].clusterId",
      "spec.ackVpcEndpoint[].vSwitches[]",
      "spec.ackVpcEndpoint[].vSwitches[].vSwitchId",
      "spec.ackVpcEndpoint[].vSwitches[].zoneId",
      "spec.asmVpcEndpoint",
      "spec.asmVpcEndpoint.vSwitches[]",
      "spec.asmVpcEndpoint.vSwitches[].vSwitchId",
      "spec.asmVpcEndpoint.vSwitches[].zoneId",
    ],
  },
};
