import { busOptionsFromEnv } from "@isthmus/bus";
import type { ClusterAccess } from "@isthmus/k8s";
import type { CloudProvider } from "./adapters/provider.js";
import { SimulatedCloud } from "./adapters/simulated-provider.js";
import { demoTopology } from "./domain/demo-topology.js";
import type { PvlManagerConfig } from "./service.js";

/**
 * MESH_ID; CONFIG_KUBECONFIG (the mesh's config cluster; in-cluster in a pod, else the CONFIG stream);
 * PVL_PROVIDER = simulated (default; its cloud in DATABASE_URL) | alibabacloud
 * (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, ALIBABA_CLOUD_REGION, PVL_TOPOLOGY_FILE);
 * DATABASE_URL; NATS_*; PVL_SAN_CHECK=false to skip the API-server certificate check.
 */
export async function configFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<PvlManagerConfig> {
  // In a pod (the Helm chart) its own cluster is the config cluster; elsewhere without CONFIG_KUBECONFIG
  // (the local stack, compose) ASMPvlConfig comes from the CONFIG stream, as `isthmus apply` writes it.
  const configCluster: ClusterAccess | undefined = env.CONFIG_KUBECONFIG
    ? { kubeconfigPath: env.CONFIG_KUBECONFIG }
    : env.KUBERNETES_SERVICE_HOST
      ? { inCluster: true }
      : undefined;
  let provider: CloudProvider;
  if ((env.PVL_PROVIDER ?? "simulated") === "alibabacloud") {
    const { AlibabaCloudProvider } = await import("./adapters/alibaba-provider.js");
    provider = AlibabaCloudProvider.fromEnv(env);
  } else {
    const sim = await SimulatedCloud.open(env.DATABASE_URL, env.PVL_SIM_DATA_DIR);
    // A cloud nobody has laid out gets the demo's (cluster-1, cluster-2), so compose works with no setup.
    await sim.seedIfEmpty(demoTopology());
    provider = sim;
  }
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
