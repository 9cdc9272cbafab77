import { Bus, busOptionsFromEnv } from "@isthmus/bus";
import { kubeConfigFor } from "@isthmus/k8s";
import { FIXES, latestPvlStatus, PvlConfigs, type PvlStatus } from "@isthmus/pvl-manager";

/** The status from the config cluster when one is given, else the last one pvl-manager published (the local stack). */
async function readStatus(o: { kubeconfig?: string; mesh: string; name: string }): Promise<{ status?: PvlStatus | undefined }> {
  const path = o.kubeconfig ?? process.env.CONFIG_KUBECONFIG;
  if (path) {
    const obj = await new PvlConfigs(kubeConfigFor({ kubeconfigPath: path })).get(o.name);
    if (!obj) throw new Error(`no ASMPvlConfig ${o.name} on this cluster (use the ASM instance's kubeconfig)`);
    return { status: obj.status };
  }
  const bus = await Bus.connect({ ...busOptionsFromEnv(process.env, "isthmus-cli"), waitOnFirstConnect: false });
  try {
    return { status: await latestPvlStatus(bus, o.mesh, o.name) };
  } finally {
    await bus.close();
  }
}

/** `isthmus pvl status`: the resource's status, and for every condition what to do about it. */
export async function pvlStatus(
  o: { kubeconfig?: string; mesh: string; name: string; format: "text" | "json" },
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<void> {
  const st = (await readStatus(o)).status;
  if (o.format === "json") {
    out(JSON.stringify(st ?? {}, null, 2));
    return;
  }
  out(`ASMPvlConfig ${o.name}: ${st?.status ?? "no status yet (is pvl-manager running?)"}`);
  if (st?.status === "Deleted") out("  deleted: every PrivateLink endpoint and endpoint service it created has been removed");
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
