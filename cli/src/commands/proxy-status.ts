import { Bus, busOptionsFromEnv, StateReader } from "@isthmus/bus";
import { syncState, TYPE_COLUMNS, type TypeStatus } from "@isthmus/config-push";
import { domainFilter, streamName } from "@isthmus/events";

interface ProxyStatus {
  proxyId: string;
  instance: string;
  connected: boolean;
  types: Record<string, TypeStatus>;
}

/** Read the latest status of every proxy from the PUSH stream. */
export async function readProxyStatus(mesh: string): Promise<ProxyStatus[]> {
  const bus = await Bus.connect({ ...busOptionsFromEnv(process.env, "isthmus-cli"), waitOnFirstConnect: false });
  try {
    const reader = new StateReader(bus.js, { stream: streamName(mesh, "push"), filter: domainFilter(mesh, "push", "proxy") });
    const out: ProxyStatus[] = [];
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state") out.push(it.event.data as ProxyStatus);
    }
    await reader.close();
    return out.sort((a, b) => (a.proxyId < b.proxyId ? -1 : 1));
  } finally {
    await bus.close();
  }
}

/** `isthmus proxy-status`: Istio-style sync state per proxy and xDS type. */
export async function proxyStatus(o: { mesh: string; all?: boolean }, out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<void> {
  const list = (await readProxyStatus(o.mesh)).filter((p) => o.all || p.connected);
  out(`${"NAME".padEnd(60)} ${TYPE_COLUMNS.map(([c]) => c.padEnd(10)).join(" ")} ISTIOD`);
  for (const p of list) {
    out(
      `${p.proxyId.padEnd(60)} ${TYPE_COLUMNS.map(([, t]) => syncState(p.types[t]).padEnd(10)).join(" ")} ${p.instance}${p.connected ? "" : " (disconnected)"}`,
    );
    for (const [c, t] of TYPE_COLUMNS) if (p.types[t]?.error) out(`  ${c} NACK: ${p.types[t]?.error}`);
  }
}
