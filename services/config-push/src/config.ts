import { busOptionsFromEnv } from "@isthmus/bus";
import type { ConfigPushConfig } from "./service.js";

/**
 * MESH_ID, XDS_HOST, XDS_PORT (15010), DEBOUNCE_MS, CONFIG_KUBECONFIG (the mesh's config cluster: watch
 * every configuration kind there) or CONFIG_IN_CLUSTER=true (the cluster config-push runs in is it),
 * SCOPE_CLUSTERS (comma list: serve only these clusters' services), TRUST_DOMAIN,
 * REMOTE_CONTROL_PLANE_FOR (comma list: run as these clusters' remote control plane on a
 * leaf node), SDS_CERT_DIR, PUSH_CONCURRENCY, XDS_TLS_CERT + XDS_TLS_KEY + XDS_TLS_CA (mTLS on the
 * xDS listener; XDS_PLAINTEXT_PORT keeps a plaintext one next to it), NATS_*.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigPushConfig {
  const tls =
    env.XDS_TLS_CERT && env.XDS_TLS_KEY && env.XDS_TLS_CA ? { certFile: env.XDS_TLS_CERT, keyFile: env.XDS_TLS_KEY, caFile: env.XDS_TLS_CA } : undefined;
  if (!tls && (env.XDS_TLS_CERT || env.XDS_TLS_KEY || env.XDS_TLS_CA)) throw new Error("XDS_TLS_CERT, XDS_TLS_KEY and XDS_TLS_CA go together");
  const list = (v: string | undefined) =>
    v
      ?.split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const remoteFor = list(env.REMOTE_CONTROL_PLANE_FOR);
  const clusters = env.SCOPE_CLUSTERS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    mesh: env.MESH_ID ?? "default",
    bus: busOptionsFromEnv(env, "config-push"),
    host: env.XDS_HOST ?? "0.0.0.0",
    port: Number(env.XDS_PORT ?? 15010),
    debounceMs: env.DEBOUNCE_MS ? Number(env.DEBOUNCE_MS) : 100,
    ...(env.POD_NAME ? { instance: env.POD_NAME } : {}),
    ...(env.CONFIG_KUBECONFIG
      ? { configCluster: { kubeconfigPath: env.CONFIG_KUBECONFIG } }
      : env.CONFIG_IN_CLUSTER === "true"
        ? { configCluster: { inCluster: true as const } }
        : {}),
    ...(clusters?.length ? { clusters } : {}),
    ...(remoteFor?.length ? { remoteFor } : {}),
    ...(env.TRUST_DOMAIN ? { trustDomain: env.TRUST_DOMAIN } : {}),
    ...(env.SDS_CERT_DIR ? { sdsCertDir: env.SDS_CERT_DIR } : {}),
    ...(env.PUSH_CONCURRENCY ? { maxConcurrentPushes: Number(env.PUSH_CONCURRENCY) } : {}),
    ...(tls ? { tls } : {}),
    ...(tls && env.XDS_PLAINTEXT_PORT ? { plaintextPort: Number(env.XDS_PLAINTEXT_PORT) } : {}),
  };
}
