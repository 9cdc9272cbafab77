import { busOptionsFromEnv } from "@isthmus/bus";
import type { ClusterAccess } from "@isthmus/k8s";
import type { CloudProvider } from "./adapters/provider.js";
import { SimulatedCloud } from "./adapters/simulated-provider.js";
import type { PvlManagerConfig } from "./service.js";

/**
 * MESH_ID; CONFIG_KUBECONFIG (the mesh's config cluster; in-cluster when absent);
 * PVL_PROVIDER = simulated (default; its cloud in DATABASE_URL) | alibabacloud
 * (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, ALIBABA_CLOUD_REGION, PVL_TOPOLOGY_FILE);
 * DATABASE_URL; NATS_*; PVL_SAN_CHECK=false to skip the API-server certificate check.
 */
export async function configFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<PvlManagerConfig> {
  const configCluster: ClusterAccess = env.CONFIG_KUBECONFIG ? { kubeconfigPath: env.CONFIG_KUBECONFIG } : { inCluster: true };
  let provider: CloudProvider;
  if ((env.PVL_PROVIDER ?? "simulated") === "alibabacloud") {
    const { AlibabaCloudProvider } = await import("./adapters/alibaba-provider.js");
    provider = AlibabaCloudProvider.fromEnv(env);
  } else provider = await SimulatedCloud.open(env.DATABASE_URL, env.PVL_SIM_DATA_DIR);
  return {
    mesh: env.MESH_ID ?? "default",
    configCluster,
    provider,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.PVL_DATA_DIR,
    bus: env.NATS_URL ? busOptionsFromEnv(env, "pvl-manager") : undefined,
    sanCheck: env.PVL_SAN_CHECK !== "false",
  };
}
