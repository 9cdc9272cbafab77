import { KubeConfig } from "@kubernetes/client-node";

/** A cluster's API access: kubeconfig text or file, or the pod's in-cluster account. */
export type ClusterAccess = { kubeconfig: string } | { kubeconfigPath: string } | { inCluster: true };

export function kubeConfigFor(access: ClusterAccess): KubeConfig {
  const kc = new KubeConfig();
  if ("kubeconfig" in access) kc.loadFromString(access.kubeconfig);
  else if ("kubeconfigPath" in access) kc.loadFromFile(access.kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}
