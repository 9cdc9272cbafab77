import { type BusLogger, silentLogger } from "@isthmus/bus";
import { buildEvent, pvlStatusChangedV1 } from "@isthmus/events";
import { enqueue, type Store } from "@isthmus/store";
import { type CloudProvider, type CloudResource, ProviderError } from "./adapters/provider.js";
import { checkApiServerSan } from "./adapters/san-check.js";
import { operations, outbox } from "./adapters/schema.js";
import type { PvlConfigSource } from "./adapters/source.js";
import { carryTransitionTimes, condition } from "./domain/diagnose.js";
import { type DesiredResource, desiredResources } from "./domain/plan.js";
import { type Condition, PVL_FINALIZER, type PvlConfigObject, type PvlStatus } from "./domain/spec.js";
import { composeStatus } from "./domain/status.js";
import { validateSpec } from "./domain/validate.js";

export interface ReconcileResult {
  /** When to look again (ms); undefined once the object is gone. */
  requeueMs?: number;
  status?: PvlStatus;
}

const canonical = (s: unknown) => JSON.stringify(s, (_k, v) => v);

/**
 * One level-triggered pass over an ASMPvlConfig: compare what the spec wants with what the
 * cloud has (found by owner tag), create what is missing with deterministic client tokens,
 * delete what is no longer wanted, and write the status in the seed's shape. Safe to repeat
 * at any point, including after a crash half-way.
 */
export class PvlReconciler {
  constructor(private readonly o: { mesh: string; provider: CloudProvider; configs: PvlConfigSource; store: Store; log?: BusLogger; sanCheck?: boolean }) {}

  private get log(): BusLogger {
    return this.o.log ?? silentLogger;
  }

  private owner(obj: PvlConfigObject): string {
    return `${this.o.mesh}/${obj.metadata.name}/${obj.metadata.uid ?? ""}`;
  }

  private async record(
    obj: PvlConfigObject,
    action: string,
    key: string,
    outcome: string,
    r?: Partial<CloudResource>,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.o.store.db
      .insert(operations)
      .values({ config: obj.metadata.name, action, resourceKey: key, resourceId: r?.id ?? null, clientToken: r?.clientToken ?? null, outcome, detail })
      .catch((err) => this.log.warn({ err: String(err) }, "operation log write failed"));
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    let obj = await this.o.configs.get(name);
    if (!obj) return {};
    const owner = this.owner(obj);

    if (obj.metadata.deletionTimestamp) return this.cleanup(obj, owner);
    if (!(obj.metadata.finalizers ?? []).includes(PVL_FINALIZER)) {
      obj = await this.o.configs.replace({ ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), PVL_FINALIZER] } });
    }

    const topo = await this.o.provider.topology();
    const v = validateSpec(obj.metadata.name, obj.spec, topo);
    if (!v.spec) {
      // Nothing is provisioned for an invalid spec; every problem says what to change.
      const conditions = v.problems.map((p) => condition(p.reason === "ZoneMismatch" ? "ZoneMismatch" : "SpecValid", "False", p.reason, p.message));
      await this.writeStatus(obj, { status: "Invalid", conditions: mergeByType(conditions) });
      return { requeueMs: 30_000, status: { status: "Invalid", conditions } };
    }

    const desired = desiredResources(owner, v.spec, topo);
    let existing = await this.o.provider.list(owner);
    const conditions: Condition[] = [];
    const providerProblem = (err: unknown, what: string) => {
      if (err instanceof ProviderError && (err.code === "QuotaExceeded" || err.code === "ServiceNotActivated")) {
        conditions.push(condition(err.code, "True", err.code, `${what}: ${err.message}`));
      } else conditions.push(condition("CloudError", "True", err instanceof ProviderError ? err.code : "Error", `${what}: ${(err as Error).message}`));
    };

    // Remove what the spec no longer wants: endpoints before the services they use.
    const wanted = new Set(desired.map((d) => `${d.kind}:${d.key}`));
    for (const r of [...existing].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "endpoint" ? -1 : 1))) {
      if (wanted.has(`${r.kind}:${r.key}`)) continue;
      try {
        await this.o.provider.delete(r);
        await this.record(obj, "delete", r.key, "ok", r);
      } catch (err) {
        await this.record(obj, "delete", r.key, "error", r, { error: String(err) });
        providerProblem(err, `deleting ${r.kind} ${r.id}`);
      }
    }

    // Create what is missing: services first, then the endpoints that connect to them.
    const byKey = () => new Map(existing.map((r) => [`${r.kind}:${r.key}`, r]));
    for (const d of desired.filter((x) => x.kind === "service")) {
      if (byKey().has(`service:${d.key}`)) continue;
      await this.create(obj, d, owner, providerProblem);
    }
    existing = await this.o.provider.list(owner);
    for (const d of desired.filter((x) => x.kind === "endpoint")) {
      if (byKey().has(`endpoint:${d.key}`) || d.kind !== "endpoint") continue;
      const svc = byKey().get(`service:${d.serviceKey}`);
      if (!svc) continue;
      await this.create(obj, d, owner, providerProblem, svc.id);
    }
    existing = (await this.o.provider.list(owner)).filter((r) => wanted.has(`${r.kind}:${r.key}`));
    const status = composeStatus(v.spec, byKey(), desired);

    if (status.status !== "Available" && !conditions.length) {
      const disconnected = existing.filter((r) => r.kind === "endpoint" && r.status === "Active" && r.connectionStatus === "Disconnected");
      if (disconnected.length) {
        conditions.push(
          condition(
            "ZoneMismatch",
            "True",
            "ZoneMismatch",
            `endpoints ${disconnected.map((r) => r.id).join(", ")} share no zone with their endpoint service: check the cross-VPC zone matching of the vSwitches`,
          ),
        );
      } else conditions.push(condition("Provisioning", "True", "Provisioning", "PrivateLink endpoint services and endpoints are still being provisioned"));
    }
    if (conditions.some((c) => c.reason === "QuotaExceeded" || c.reason === "ServiceNotActivated")) status.status = "Failed";

    if (status.status === "Available" && this.o.sanCheck !== false) {
      for (const c of status.clusters ?? []) {
        const address = topo.clusters[c.clusterId]?.apiServerAddress;
        const domain = c.pvlEndpoint?.domainName;
        if (!address || !domain) continue;
        const san = await checkApiServerSan(address, domain);
        if (!san.ok) {
          conditions.push(
            condition(
              "ApiServerCertificateSAN",
              "False",
              "ApiServerCertificateSAN",
              san.error
                ? `cannot check the API server certificate of ${c.clusterId} at ${address}: ${san.error}`
                : `the API server certificate of ${c.clusterId} does not list ${domain} (it has ${san.sans.join(", ") || "no SANs"}): add it to the certificate's custom SAN`,
            ),
          );
        }
      }
    }
    if (conditions.length) status.conditions = mergeByType(conditions);
    await this.writeStatus(obj, status);
    return { requeueMs: status.status === "Available" && !conditions.length ? 30_000 : status.status === "Available" ? 10_000 : 500, status };
  }

  private async create(
    obj: PvlConfigObject,
    d: DesiredResource,
    owner: string,
    problem: (err: unknown, what: string) => void,
    serviceId?: string,
  ): Promise<void> {
    try {
      const r =
        d.kind === "service"
          ? await this.o.provider.createEndpointService({ owner, key: d.key, clientToken: d.clientToken, loadBalancerId: d.loadBalancerId, zones: d.zones })
          : await this.o.provider.createEndpoint({
              owner,
              key: d.key,
              clientToken: d.clientToken,
              vpcId: d.vpcId,
              serviceId: serviceId as string,
              vSwitches: d.vSwitches,
            });
      await this.record(obj, `create-${d.kind}`, d.key, "ok", r);
    } catch (err) {
      await this.record(obj, `create-${d.kind}`, d.key, "error", { clientToken: d.clientToken }, { error: String(err) });
      problem(err, `creating ${d.kind === "service" ? "endpoint service" : "endpoint"} ${d.key}`);
    }
  }

  /** Deletion: remove everything this config created, then let Kubernetes delete it. */
  private async cleanup(obj: PvlConfigObject, owner: string): Promise<ReconcileResult> {
    const existing = await this.o.provider.list(owner);
    for (const r of [...existing].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "endpoint" ? -1 : 1))) {
      try {
        await this.o.provider.delete(r);
        await this.record(obj, "delete", r.key, "ok", r);
      } catch (err) {
        await this.record(obj, "delete", r.key, "error", r, { error: String(err) });
      }
    }
    if ((await this.o.provider.list(owner)).length) return { requeueMs: 500 };
    if ((obj.metadata.finalizers ?? []).includes(PVL_FINALIZER)) {
      await this.o.configs.replace({ ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== PVL_FINALIZER) } });
      await this.announce(obj, { status: "Deleted" });
    }
    return {};
  }

  private async writeStatus(obj: PvlConfigObject, next: PvlStatus): Promise<void> {
    if (next.conditions) next.conditions = carryTransitionTimes(next.conditions, obj.status?.conditions);
    if (canonical(obj.status ?? null) === canonical(next)) return;
    await this.o.configs.writeStatus(obj, next);
    await this.announce(obj, next);
    this.log.info({ config: obj.metadata.name, status: next.status, conditions: next.conditions?.map((c) => c.reason) }, "status changed");
  }

  /** Every transition is an event on the PVL stream, through the outbox. */
  private async announce(obj: PvlConfigObject, status: PvlStatus): Promise<void> {
    const ev = buildEvent(
      pvlStatusChangedV1,
      this.o.mesh,
      { name: obj.metadata.name, status: status.status, conditions: status.conditions ?? [], resourceStatus: status as unknown as Record<string, unknown> },
      { source: `pvl-manager/${this.o.mesh}` },
    );
    await this.o.store.db.transaction((tx) => enqueue(tx, outbox, ev));
  }
}

function mergeByType(cs: Condition[]): Condition[] {
  const out = new Map<string, Condition>();
  for (const c of cs) {
    const prev = out.get(c.type);
    out.set(c.type, prev ? { ...prev, message: `${prev.message}; ${c.message}` } : c);
  }
  return [...out.values()];
}
