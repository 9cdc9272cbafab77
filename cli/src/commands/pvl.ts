import { kubeConfigFor } from "@isthmus/k8s";
import { FIXES, PvlConfigs, type PvlStatus } from "@isthmus/pvl-manager";

/** `isthmus pvl status`: the resource's status, and for every condition what to do about it. */
export async function pvlStatus(
  o: { kubeconfig?: string; name: string; format: "text" | "json" },
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<void> {
  const path = o.kubeconfig ?? process.env.KUBECONFIG;
  const configs = new PvlConfigs(kubeConfigFor(path ? { kubeconfigPath: path } : { inCluster: true }));
  const obj = await configs.get(o.name);
  if (!obj) throw new Error(`no ASMPvlConfig ${o.name} on this cluster (use the ASM instance's kubeconfig)`);
  const st: PvlStatus | undefined = obj.status;
  if (o.format === "json") {
    out(JSON.stringify(st ?? {}, null, 2));
    return;
  }
  out(`ASMPvlConfig ${o.name}: ${st?.status ?? "no status yet (is pvl-manager running?)"}`);
  for (const c of st?.clusters ?? []) {
    out(
      `  cluster ${c.clusterId}  api-server endpoint ${c.pvlEndpoint?.id ?? "-"} ${c.pvlEndpoint?.status ?? ""}/${c.pvlEndpoint?.connectionStatus ?? ""}  service ${c.pvlEndpointService?.id ?? "-"} ${c.pvlEndpointService?.status ?? ""}`,
    );
    if (c.pvlEndpoint?.domainName) out(`    domainName ${c.pvlEndpoint.domainName}  (add to the API server certificate SAN)`);
  }
  for (const c of st?.pilot?.clusters ?? [])
    out(`  pilot ${c.clusterId}  endpoint ${c.pvlEndpoint?.id ?? "-"} ${c.pvlEndpoint?.status ?? ""}/${c.pvlEndpoint?.connectionStatus ?? ""}`);
  if (st?.pilot?.pvlEndpointService) out(`  pilot endpoint service ${st.pilot.pvlEndpointService.id} ${st.pilot.pvlEndpointService.status}`);
  for (const c of st?.conditions ?? []) {
    out(`  ! ${c.type}=${c.status} (${c.reason}): ${c.message}`);
    const fix = FIXES[c.reason];
    if (fix) out(`    fix: ${fix}`);
  }
}
