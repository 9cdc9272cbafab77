import type { CloudTopology } from "../domain/topology.js";
import { type CloudProvider, type CloudResource, ProviderError } from "./provider.js";

/** Placeholder until the PrivateLink OpenAPI client lands (see README). */
export class AlibabaCloudProvider implements CloudProvider {
  readonly name = "alibabacloud";
  static fromEnv(_env: NodeJS.ProcessEnv): AlibabaCloudProvider {
    throw new ProviderError("Internal", "the alibabacloud provider is not implemented yet: use PVL_PROVIDER=simulated");
  }
  topology(): Promise<CloudTopology> {
    throw new Error("not implemented");
  }
  list(): Promise<CloudResource[]> {
    throw new Error("not implemented");
  }
  createEndpointService(): Promise<CloudResource> {
    throw new Error("not implemented");
  }
  createEndpoint(): Promise<CloudResource> {
    throw new Error("not implemented");
  }
  delete(): Promise<void> {
    throw new Error("not implemented");
  }
}
