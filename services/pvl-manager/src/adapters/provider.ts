import type { CloudTopology } from "../domain/topology.js";

export interface CloudResource {
  id: string;
  kind: "service" | "endpoint";
  /** Our key for it (e.g. "apiserver/<cluster>", "pilot/<cluster>", "pilot"), kept as a tag. */
  key: string;
  clientToken: string;
  name?: string;
  status: string;
  connectionStatus?: string;
  domainName?: string;
  serviceId?: string;
}

export type ProviderErrorCode = "QuotaExceeded" | "ServiceNotActivated" | "NotFound" | "Throttled" | "InvalidParameter" | "Internal";

export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The cloud's PrivateLink API, as pvl-manager needs it. Creates are idempotent by client
 * token; every resource is tagged with its owner and key so it can be found again.
 */
export interface CloudProvider {
  readonly name: string;
  topology(): Promise<CloudTopology>;
  list(owner: string): Promise<CloudResource[]>;
  createEndpointService(o: { owner: string; key: string; clientToken: string; loadBalancerId: string; zones: string[] }): Promise<CloudResource>;
  createEndpoint(o: {
    owner: string;
    key: string;
    clientToken: string;
    vpcId: string;
    serviceId: string;
    vSwitches: Array<{ id: string; zone: string }>;
  }): Promise<CloudResource>;
  delete(r: CloudResource): Promise<void>;
}
