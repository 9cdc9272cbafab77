import OpenApiUtil from "@alicloud/openapi-util";
import { describe, expect, it } from "vitest";
import { AlibabaCloudProvider } from "../src/adapters/alibaba-provider.js";
import * as api from "../src/adapters/privatelink-api.js";

// A CommonJS module: Node gives its exports object, Vite its default export; accept either.
const sdk = ((OpenApiUtil as unknown as { default?: unknown }).default ?? OpenApiUtil) as {
  getRPCSignature(p: Record<string, string>, method: string, secret: string): string;
};

import { clientToken } from "../src/index.js";

describe("Alibaba Cloud PrivateLink OpenAPI (no network here: request building, signing, response parsing)", () => {
  it("builds CreateVpcEndpointService as documented: one Resource.N per zone, auto-accept, idempotent ClientToken, owner tags", () => {
    const token = clientToken("mesh-1/default/uid", "service/apiserver/c1");
    const c = api.createVpcEndpointService({
      region: "cn-hangzhou",
      clientToken: token,
      owner: "mesh-1/default/uid",
      key: "apiserver/c1",
      loadBalancerId: "lb-123",
      zones: ["cn-hangzhou-i", "cn-hangzhou-j"],
    });
    expect(c).toEqual({
      action: "CreateVpcEndpointService",
      query: {
        RegionId: "cn-hangzhou",
        ClientToken: token,
        AutoAcceptEnabled: "true",
        ServiceResourceType: "slb",
        ServiceDescription: "isthmus apiserver/c1",
        "Resource.1.ResourceId": "lb-123",
        "Resource.1.ResourceType": "slb",
        "Resource.1.ZoneId": "cn-hangzhou-i",
        "Resource.2.ResourceId": "lb-123",
        "Resource.2.ResourceType": "slb",
        "Resource.2.ZoneId": "cn-hangzhou-j",
        "Tag.1.Key": "isthmus.io/owner",
        "Tag.1.Value": "mesh-1/default/uid",
        "Tag.2.Key": "isthmus.io/key",
        "Tag.2.Value": "apiserver/c1",
      },
    });
    expect(token).toMatch(/^isthmus-[0-9a-f]{40}$/); // ClientToken: at most 64 ASCII characters
    expect(clientToken("mesh-1/default/uid", "service/apiserver/c1")).toBe(token);
  });

  it("builds CreateVpcEndpoint with Zone.N.VSwitchId/ZoneId and a security group", () => {
    const c = api.createVpcEndpoint({
      region: "cn-hangzhou",
      clientToken: "t",
      owner: "o",
      key: "pilot/c1",
      vpcId: "vpc-1",
      serviceId: "epsrv-1",
      securityGroupId: "sg-1",
      vSwitches: [{ id: "vsw-1", zone: "cn-hangzhou-j" }],
    });
    expect(c.action).toBe("CreateVpcEndpoint");
    expect(c.query).toMatchObject({
      VpcId: "vpc-1",
      ServiceId: "epsrv-1",
      "SecurityGroupId.1": "sg-1",
      "Zone.1.VSwitchId": "vsw-1",
      "Zone.1.ZoneId": "cn-hangzhou-j",
      EndpointName: "isthmus-pilot-c1",
    });
    expect(api.deleteVpcEndpoint("cn-hangzhou", "ep-1")).toEqual({ action: "DeleteVpcEndpoint", query: { RegionId: "cn-hangzhou", EndpointId: "ep-1" } });
    expect(api.listVpcEndpoints("cn-hangzhou", "o", "tok").query).toMatchObject({ "Tag.1.Key": "isthmus.io/owner", "Tag.1.Value": "o", NextToken: "tok" });
  });

  it("signs RPC requests per the documented algorithm, agreeing with the SDK's own signer", () => {
    const params = {
      Action: "ListVpcEndpoints",
      Format: "json",
      Version: api.PRIVATELINK_VERSION,
      Timestamp: "2026-11-21T10:00:00Z",
      SignatureNonce: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
      SignatureMethod: "HMAC-SHA1",
      SignatureVersion: "1.0",
      AccessKeyId: "testid",
      RegionId: "cn-hangzhou",
      "Tag.1.Value": "mesh 1/default*~",
    };
    const ours = api.rpcSignature(params, "POST", "testsecret");
    expect(ours).toBe(sdk.getRPCSignature(params, "POST", "testsecret"));
    expect(api.rpcSignature({ ...params, RegionId: "cn-beijing" }, "POST", "testsecret")).not.toBe(ours);
    expect(api.percentEncode("a b*~/")).toBe("a%20b%2A~%2F");
  });

  it("parses the documented list responses, keeping only resources it tagged", () => {
    const services = api.parseServices({
      RequestId: "r",
      NextToken: "n2",
      Services: [
        {
          ServiceId: "epsrv-bp1gqb8g1b8d7uactd",
          ServiceName: "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1gqb8g1b8d7uactd",
          ServiceStatus: "Active",
          Tags: [{ Key: "isthmus.io/key", Value: "pilot" }],
        },
      ],
    });
    expect(services).toEqual({
      items: [{ id: "epsrv-bp1gqb8g1b8d7uactd", name: "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1gqb8g1b8d7uactd", status: "Active", key: "pilot" }],
      nextToken: "n2",
    });
    const eps = api.parseEndpoints({
      Endpoints: [
        {
          EndpointId: "ep-bp1i06bad79eb60c60",
          EndpointStatus: "Active",
          ConnectionStatus: "Connected",
          EndpointDomain: "ep-bp1i06bad79eb60c60cc.epsrv-bp1gqb8g1b8d7uactd.cn-hangzhou.privatelink.aliyuncs.com",
          ServiceId: "epsrv-bp1gqb8g1b8d7uactd",
          Tags: [{ Key: "isthmus.io/key", Value: "apiserver/c1" }],
        },
      ],
    });
    expect(eps.items[0]).toEqual({
      id: "ep-bp1i06bad79eb60c60",
      status: "Active",
      connectionStatus: "Connected",
      domainName: "ep-bp1i06bad79eb60c60cc.epsrv-bp1gqb8g1b8d7uactd.cn-hangzhou.privatelink.aliyuncs.com",
      serviceId: "epsrv-bp1gqb8g1b8d7uactd",
      key: "apiserver/c1",
    });
  });

  it("refuses to start without credentials, region and topology, saying which", () => {
    expect(() => AlibabaCloudProvider.fromEnv({})).toThrow(
      /ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION and PVL_TOPOLOGY_FILE/,
    );
  });
});
