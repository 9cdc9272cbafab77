import { CONFIG_PUSH_SUPPORT } from "@isthmus/config-push";
import { PVL_SUPPORT } from "@isthmus/pvl-manager";

/** What the mesh's consumers honour: config-push translates the traffic kinds, pvl-manager reconciles ASMPvlConfig. */
export const MESH_SUPPORT = { ...CONFIG_PUSH_SUPPORT, ...PVL_SUPPORT };
