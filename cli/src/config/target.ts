import { Bus, busOptionsFromEnv } from "@isthmus/bus";
import { ClusterConfigStore, StreamConfigStore } from "@isthmus/config";
import { kubeConfigFor } from "@isthmus/k8s";

export interface TargetOptions {
  mesh: string;
  /** The mesh's config cluster; default CONFIG_KUBECONFIG. Without one, the CONFIG stream is the store. */
  kubeconfig?: string;
}

/**
 * Where configuration lives: the mesh's config cluster when there is one (written as kubectl
 * would; its watcher publishes), otherwise the CONFIG stream itself. The NATS connection is
 * there either way (analysis reads what discovery found, history reads the event log).
 */
export interface ConfigTarget {
  bus: Bus;
  stream: StreamConfigStore;
  cluster?: ClusterConfigStore;
  /** Who writes: the NATS user (recorded with every version on the stream). */
  actor: string;
  close(): Promise<void>;
}

export async function openTarget(o: TargetOptions): Promise<ConfigTarget> {
  const opts = busOptionsFromEnv(process.env, "isthmus-cli");
  const bus = await Bus.connect({ ...opts, waitOnFirstConnect: false });
  const kubeconfig = o.kubeconfig ?? process.env.CONFIG_KUBECONFIG;
  return {
    bus,
    stream: new StreamConfigStore(bus, o.mesh),
    ...(kubeconfig ? { cluster: new ClusterConfigStore(kubeConfigFor({ kubeconfigPath: kubeconfig })) } : {}),
    actor: process.env.NATS_USER ?? "anonymous",
    close: () => bus.close(),
  };
}
