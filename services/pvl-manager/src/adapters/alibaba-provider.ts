import { readFileSync } from "node:fs";
import OpenApi from "@alicloud/openapi-client";
import Util from "@alicloud/tea-util";
import type { CloudTopology } from "../domain/topology.js";
import * as api from "./privatelink-api.js";
import { type CloudProvider, type CloudResource, ProviderError, type ProviderErrorCode } from "./provider.js";

type Topology = CloudTopology & { securityGroups: Record<string, string> };

const ERROR_CODES: Record<string, ProviderErrorCode> = {
  "QuotaExceeded.EndpointService": "QuotaExceeded",
  "QuotaExceeded.Endpoint": "QuotaExceeded",
  "OperationDenied.PrivateLinkServiceNotOpen": "ServiceNotActivated",
  "OperationDenied.NotOpened": "ServiceNotActivated",
  Throttling: "Throttled",
  "Throttling.User": "Throttled",
};

/**
 * The real PrivateLink OpenAPI through @alicloud/openapi-client (RPC style, AK signature).
 * The topology (VPCs, vSwitches with zones, load balancers, security groups, API server
 * addresses) comes from PVL_TOPOLOGY_FILE: the ASM and ACK APIs that would provide it are
 * outside pvl-manager's remit here.
 */
export class AlibabaCloudProvider implements CloudProvider {
  readonly name = "alibabacloud";
  private readonly client: InstanceType<typeof OpenApi.default>;

  constructor(
    private readonly region: string,
    private readonly topo: Topology,
    credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined },
    endpoint = `privatelink.${region}.aliyuncs.com`,
  ) {
    this.client = new OpenApi.default(new OpenApi.Config({ ...credentials, endpoint, regionId: region, protocol: "HTTPS" }));
  }

  static fromEnv(env: NodeJS.ProcessEnv): AlibabaCloudProvider {
    const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    const region = env.ALIBABA_CLOUD_REGION;
    if (!id || !secret || !region || !env.PVL_TOPOLOGY_FILE) {
      throw new Error(
        "the alibabacloud provider needs ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION and PVL_TOPOLOGY_FILE",
      );
    }
    const topo = JSON.parse(readFileSync(env.PVL_TOPOLOGY_FILE, "utf8")) as Topology;
    return new AlibabaCloudProvider(region, topo, { accessKeyId: id, accessKeySecret: secret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN });
  }

  private async call(c: api.ApiCall): Promise<Record<string, unknown>> {
    const params = new OpenApi.Params({
      action: c.action,
      version: api.PRIVATELINK_VERSION,
      protocol: "HTTPS",
      pathname: "/",
      method: "POST",
      authType: "AK",
      style: "RPC",
      reqBodyType: "formData",
      bodyType: "json",
    });
    try {
      const r = await this.client.callApi(params, new OpenApi.OpenApiRequest({ query: c.query }), new Util.RuntimeOptions({ autoretry: true, maxAttempts: 3 }));
      return (r.body ?? {}) as Record<string, unknown>;
    } catch (err) {
      const code = String((err as { code?: string }).code ?? "");
      throw new ProviderError(ERROR_CODES[code] ?? (code === "ResourceNotFound" ? "NotFound" : "Internal"), `${c.action}: ${(err as Error).message}`);
    }
  }

  async topology(): Promise<CloudTopology> {
    return this.topo;
  }

  async list(owner: string): Promise<CloudResource[]> {
    const out: CloudResource[] = [];
    for (let next: string | undefined, first = true; first || next; first = false) {
      const page = api.parseServices(await this.call(api.listVpcEndpointServices(this.region, owner, next)));
      for (const s of page.items) out.push({ id: s.id, kind: "service", key: s.key, clientToken: "", name: s.name, status: s.status });
      next = page.nextToken;
    }
    for (let next: string | undefined, first = true; first || next; first = false) {
      const page = api.parseEndpoints(await this.call(api.listVpcEndpoints(this.region, owner, next)));
      for (const e of page.items)
        out.push({
          id: e.id,
          kind: "endpoint",
          key: e.key,
          clientToken: "",
          status: e.status,
          connectionStatus: e.connectionStatus,
          domainName: e.domainName,
          serviceId: e.serviceId,
        });
      next = page.nextToken;
    }
    return out;
  }

  async createEndpointService(o: { owner: string; key: string; clientToken: string; loadBalancerId: string; zones: string[] }): Promise<CloudResource> {
    const body = await this.call(api.createVpcEndpointService({ region: this.region, ...o }));
    return {
      id: String(body.ServiceId),
      kind: "service",
      key: o.key,
      clientToken: o.clientToken,
      name: String(body.ServiceName ?? ""),
      status: String(body.ServiceStatus ?? "Creating"),
    };
  }

  async createEndpoint(o: {
    owner: string;
    key: string;
    clientToken: string;
    vpcId: string;
    serviceId: string;
    vSwitches: Array<{ id: string; zone: string }>;
  }): Promise<CloudResource> {
    const sg = this.topo.securityGroups[o.vpcId];
    if (!sg) throw new ProviderError("InvalidParameter", `no security group configured for ${o.vpcId} in the topology file`);
    const body = await this.call(api.createVpcEndpoint({ region: this.region, securityGroupId: sg, ...o }));
    return {
      id: String(body.EndpointId),
      kind: "endpoint",
      key: o.key,
      clientToken: o.clientToken,
      status: String(body.EndpointStatus ?? "Creating"),
      connectionStatus: String(body.ConnectionStatus ?? "Disconnected"),
      domainName: String(body.EndpointDomain ?? ""),
      serviceId: o.serviceId,
    };
  }

  async delete(r: CloudResource): Promise<void> {
    await this.call(r.kind === "endpoint" ? api.deleteVpcEndpoint(this.region, r.id) : api.deleteVpcEndpointService(this.region, r.id));
  }
}
