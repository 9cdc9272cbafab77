import { busOptionsFromEnv } from "@isthmus/bus";
import type { ConfigPushConfig } from "./service.js";

/** MESH_ID, XDS_HOST, XDS_PORT (15010), DEBOUNCE_MS, CONFIG_KUBECONFIG (watch Istio CRDs there), NATS_*. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigPushConfig {
  return {
    mesh: env.MESH_ID ?? "default",
    bus: busOptionsFromEnv(env, "config-push"),
    host: env.XDS_HOST ?? "0.0.0.0",
    port: Number(env.XDS_PORT ?? 15010),
    debounceMs: env.DEBOUNCE_MS ? Number(env.DEBOUNCE_MS) : 100,
    ...(env.POD_NAME ? { instance: env.POD_NAME } : {}),
    ...(env.CONFIG_KUBECONFIG ? { configCluster: { kubeconfigPath: env.CONFIG_KUBECONFIG } } : {}),
  };
}
