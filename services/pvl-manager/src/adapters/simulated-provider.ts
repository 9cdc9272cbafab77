import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { openStore, type Store } from "@isthmus/store";
import { and, count, eq, isNull } from "drizzle-orm";
import type { CloudTopology } from "../domain/topology.js";
import { type CloudProvider, type CloudResource, ProviderError, type ProviderErrorCode } from "./provider.js";
import { simCloud, simResources } from "./sim-schema.js";

export const SIM_SCHEMA = "pvl_sim";
const simMigrations = fileURLToPath(new URL("../../drizzle-sim", import.meta.url));

const rid = (prefix: string) => `${prefix}-bp1${randomBytes(9).toString("hex").slice(0, 17)}`;

/**
 * A local cloud: VPCs, vSwitches and zones (the topology), PrivateLink quotas, service
 * activation, asynchronous provisioning (resources become Active after a delay) and
 * injected failures, all in Postgres so restarts and several processes see one cloud.
 */
export class SimulatedCloud implements CloudProvider {
  readonly name = "simulated";

  private constructor(readonly store: Store) {}

  static async open(url: string | undefined, dataDir?: string): Promise<SimulatedCloud> {
    const o: Parameters<typeof openStore>[0] = { url, schema: SIM_SCHEMA, migrationsFolder: simMigrations };
    if (dataDir) o.dataDir = dataDir;
    return new SimulatedCloud(await openStore(o));
  }

  // ---- administration of the simulated cloud (tests, local stack)

  async seed(topology: CloudTopology, o: { provisionMs?: number; quotaServices?: number; quotaEndpoints?: number; activated?: boolean } = {}): Promise<void> {
    const values = { id: 1, topology, ...o };
    await this.store.db
      .insert(simCloud)
      .values(values)
      .onConflictDoUpdate({ target: simCloud.id, set: { topology, ...o } });
  }

  /** The topology unless the cloud already has one (a restart keeps what an operator configured). */
  async seedIfEmpty(topology: CloudTopology, o: { provisionMs?: number } = {}): Promise<void> {
    await this.store.db
      .insert(simCloud)
      .values({ id: 1, topology, ...o })
      .onConflictDoNothing({ target: simCloud.id });
  }

  async configure(o: { provisionMs?: number; quotaServices?: number; quotaEndpoints?: number; activated?: boolean }): Promise<void> {
    await this.store.db.update(simCloud).set(o).where(eq(simCloud.id, 1));
  }

  async failNext(op: "createEndpoint" | "createEndpointService" | "delete", code: ProviderErrorCode, times = 1): Promise<void> {
    const c = await this.cloud();
    await this.store.db
      .update(simCloud)
      .set({ failures: [...c.failures, { op, code, times }] })
      .where(eq(simCloud.id, 1));
  }

  /** Every live resource, whoever owns it (for tests: duplicates, leftovers). */
  async allResources(): Promise<Array<typeof simResources.$inferSelect>> {
    return this.store.db.select().from(simResources).where(isNull(simResources.deletedAt));
  }

  // ---- the provider API

  private async cloud() {
    const [c] = await this.store.db.select().from(simCloud).where(eq(simCloud.id, 1));
    if (!c) throw new ProviderError("Internal", "the simulated cloud has no topology yet (seed it)");
    return c;
  }

  private async injected(op: string): Promise<void> {
    const c = await this.cloud();
    const i = c.failures.findIndex((f) => f.op === op && f.times > 0);
    if (i < 0) return;
    const f = c.failures[i] as { op: string; code: string; times: number };
    const rest = c.failures.map((x, j) => (j === i ? { ...x, times: x.times - 1 } : x)).filter((x) => x.times > 0);
    await this.store.db.update(simCloud).set({ failures: rest }).where(eq(simCloud.id, 1));
    throw new ProviderError(f.code as ProviderErrorCode, `injected ${f.code} on ${op}`);
  }

  async topology(): Promise<CloudTopology> {
    return (await this.cloud()).topology;
  }

  /** Provisioning takes the cloud's current delay from creation (so a test can speed the cloud up). */
  private view(r: typeof simResources.$inferSelect, services: Map<string, typeof simResources.$inferSelect>, provisionMs: number): CloudResource {
    const isReady = (x: typeof simResources.$inferSelect) => x.createdAt.getTime() + provisionMs <= Date.now();
    const ready = isReady(r);
    const out: CloudResource = {
      id: r.id,
      kind: r.kind,
      key: r.key,
      clientToken: r.clientToken,
      status: ready ? "Active" : r.kind === "service" ? "Creating" : "Pending",
    };
    if (r.name) out.name = r.name;
    if (r.kind === "endpoint") {
      const svc = r.serviceId ? services.get(r.serviceId) : undefined;
      const shared = svc ? r.zones.some((z) => svc.zones.includes(z)) : false;
      const svcReady = svc ? isReady(svc) : false;
      out.connectionStatus = !ready || !svcReady ? "Connecting" : shared ? "Connected" : "Disconnected";
      if (r.domainName) out.domainName = r.domainName;
      if (r.serviceId) out.serviceId = r.serviceId;
    }
    return out;
  }

  async list(owner: string): Promise<CloudResource[]> {
    const rows = await this.store.db
      .select()
      .from(simResources)
      .where(and(eq(simResources.owner, owner), isNull(simResources.deletedAt)));
    const services = new Map(
      (
        await this.store.db
          .select()
          .from(simResources)
          .where(and(eq(simResources.kind, "service"), isNull(simResources.deletedAt)))
      ).map((s) => [s.id, s]),
    );
    const { provisionMs } = await this.cloud();
    return rows.map((r) => this.view(r, services, provisionMs));
  }

  private async create(kind: "service" | "endpoint", row: Omit<typeof simResources.$inferInsert, "kind">): Promise<CloudResource> {
    const c = await this.cloud();
    if (!c.activated) throw new ProviderError("ServiceNotActivated", "PrivateLink is not activated in this region");
    // Idempotency first: a repeated client token returns what the first call made.
    const [existing] = await this.store.db.select().from(simResources).where(eq(simResources.clientToken, row.clientToken));
    if (!existing) {
      const [n] = await this.store.db
        .select({ n: count() })
        .from(simResources)
        .where(and(eq(simResources.kind, kind), isNull(simResources.deletedAt)));
      const quota = kind === "service" ? c.quotaServices : c.quotaEndpoints;
      if ((n?.n ?? 0) >= quota) throw new ProviderError("QuotaExceeded", `quota of ${quota} ${kind === "service" ? "endpoint services" : "endpoints"} reached`);
      await this.store.db
        .insert(simResources)
        .values({ ...row, kind })
        .onConflictDoNothing({ target: simResources.clientToken });
    }
    const [r] = await this.store.db.select().from(simResources).where(eq(simResources.clientToken, row.clientToken));
    if (!r) throw new ProviderError("Internal", "resource vanished after create");
    const services = new Map((await this.store.db.select().from(simResources).where(eq(simResources.kind, "service"))).map((s) => [s.id, s]));
    return this.view(r, services, c.provisionMs);
  }

  async createEndpointService(o: { owner: string; key: string; clientToken: string; loadBalancerId: string; zones: string[] }): Promise<CloudResource> {
    await this.injected("createEndpointService");
    const c = await this.cloud();
    const id = rid("epsrv");
    return this.create("service", {
      id,
      clientToken: o.clientToken,
      owner: o.owner,
      key: o.key,
      name: `com.aliyuncs.privatelink.${c.topology.asm.region}.${id}`,
      zones: o.zones,
    });
  }

  async createEndpoint(o: {
    owner: string;
    key: string;
    clientToken: string;
    vpcId: string;
    serviceId: string;
    vSwitches: Array<{ id: string; zone: string }>;
  }): Promise<CloudResource> {
    await this.injected("createEndpoint");
    const c = await this.cloud();
    const [svc] = await this.store.db
      .select()
      .from(simResources)
      .where(and(eq(simResources.id, o.serviceId), isNull(simResources.deletedAt)));
    if (!svc) throw new ProviderError("NotFound", `endpoint service ${o.serviceId} not found`);
    const id = rid("ep");
    return this.create("endpoint", {
      id,
      clientToken: o.clientToken,
      owner: o.owner,
      key: o.key,
      serviceId: o.serviceId,
      domainName: `${id}.${o.serviceId}.${c.topology.asm.region}.privatelink.aliyuncs.com`,
      zones: o.vSwitches.map((v) => v.zone),
    });
  }

  async delete(r: CloudResource): Promise<void> {
    await this.injected("delete");
    if (r.kind === "service") {
      const [n] = await this.store.db
        .select({ n: count() })
        .from(simResources)
        .where(and(eq(simResources.serviceId, r.id), isNull(simResources.deletedAt)));
      if ((n?.n ?? 0) > 0) throw new ProviderError("InvalidParameter", `endpoint service ${r.id} still has endpoints`);
    }
    await this.store.db.update(simResources).set({ deletedAt: new Date() }).where(eq(simResources.id, r.id));
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
