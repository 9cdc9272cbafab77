import { createHmac } from "node:crypto";

/**
 * Alibaba Cloud PrivateLink OpenAPI (version 2020-04-15, RPC style): the requests
 * pvl-manager makes, built as the API reference documents them, and the parts of the
 * responses it reads. Pure: the transport is the SDK client.
 */
export const PRIVATELINK_VERSION = "2020-04-15";

export type Query = Record<string, string>;
export interface ApiCall {
  action: string;
  query: Query;
}

const OWNER_TAG = "isthmus.io/owner";
const KEY_TAG = "isthmus.io/key";

function tags(owner: string, key: string): Query {
  return { "Tag.1.Key": OWNER_TAG, "Tag.1.Value": owner, "Tag.2.Key": KEY_TAG, "Tag.2.Value": key };
}

export function createVpcEndpointService(o: {
  region: string;
  clientToken: string;
  owner: string;
  key: string;
  loadBalancerId: string;
  zones: string[];
}): ApiCall {
  const q: Query = {
    RegionId: o.region,
    ClientToken: o.clientToken,
    AutoAcceptEnabled: "true",
    ServiceResourceType: "slb",
    ServiceDescription: `isthmus ${o.key}`,
    ...tags(o.owner, o.key),
  };
  o.zones.forEach((z, i) => {
    q[`Resource.${i + 1}.ResourceId`] = o.loadBalancerId;
    q[`Resource.${i + 1}.ResourceType`] = "slb";
    q[`Resource.${i + 1}.ZoneId`] = z;
  });
  return { action: "CreateVpcEndpointService", query: q };
}

export function createVpcEndpoint(o: {
  region: string;
  clientToken: string;
  owner: string;
  key: string;
  vpcId: string;
  serviceId: string;
  securityGroupId: string;
  vSwitches: Array<{ id: string; zone: string }>;
}): ApiCall {
  const q: Query = {
    RegionId: o.region,
    ClientToken: o.clientToken,
    VpcId: o.vpcId,
    ServiceId: o.serviceId,
    EndpointName: `isthmus-${o.key.replace(/[^a-zA-Z0-9-]/g, "-")}`.slice(0, 128),
    "SecurityGroupId.1": o.securityGroupId,
    ...tags(o.owner, o.key),
  };
  o.vSwitches.forEach((v, i) => {
    q[`Zone.${i + 1}.VSwitchId`] = v.id;
    q[`Zone.${i + 1}.ZoneId`] = v.zone;
  });
  return { action: "CreateVpcEndpoint", query: q };
}

export function listVpcEndpointServices(region: string, owner: string, nextToken?: string): ApiCall {
  return {
    action: "ListVpcEndpointServices",
    query: { RegionId: region, "Tag.1.Key": OWNER_TAG, "Tag.1.Value": owner, MaxResults: "100", ...(nextToken ? { NextToken: nextToken } : {}) },
  };
}

export function listVpcEndpoints(region: string, owner: string, nextToken?: string): ApiCall {
  return {
    action: "ListVpcEndpoints",
    query: { RegionId: region, "Tag.1.Key": OWNER_TAG, "Tag.1.Value": owner, MaxResults: "100", ...(nextToken ? { NextToken: nextToken } : {}) },
  };
}

export const deleteVpcEndpoint = (region: string, endpointId: string): ApiCall => ({
  action: "DeleteVpcEndpoint",
  query: { RegionId: region, EndpointId: endpointId },
});
export const deleteVpcEndpointService = (region: string, serviceId: string): ApiCall => ({
  action: "DeleteVpcEndpointService",
  query: { RegionId: region, ServiceId: serviceId },
});

type Tagged = { Tags?: Array<{ Key?: string; Value?: string }> };
const tagValue = (t: Tagged, key: string) => t.Tags?.find((x) => x.Key === key)?.Value ?? "";

export interface ListedService {
  id: string;
  name: string;
  status: string;
  key: string;
}
export interface ListedEndpoint {
  id: string;
  status: string;
  connectionStatus: string;
  domainName: string;
  serviceId: string;
  key: string;
}

/** ListVpcEndpointServices: `{ Services: [{ ServiceId, ServiceName, ServiceStatus, Tags }], NextToken }`. */
export function parseServices(body: unknown): { items: ListedService[]; nextToken?: string } {
  const b = body as { Services?: Array<Tagged & { ServiceId: string; ServiceName: string; ServiceStatus: string }>; NextToken?: string };
  const items = (b.Services ?? []).map((s) => ({ id: s.ServiceId, name: s.ServiceName, status: s.ServiceStatus, key: tagValue(s, KEY_TAG) }));
  return b.NextToken ? { items, nextToken: b.NextToken } : { items };
}

/** ListVpcEndpoints: `{ Endpoints: [{ EndpointId, EndpointStatus, ConnectionStatus, EndpointDomain, ServiceId, Tags }], NextToken }`. */
export function parseEndpoints(body: unknown): { items: ListedEndpoint[]; nextToken?: string } {
  const b = body as {
    Endpoints?: Array<Tagged & { EndpointId: string; EndpointStatus: string; ConnectionStatus: string; EndpointDomain: string; ServiceId: string }>;
    NextToken?: string;
  };
  const items = (b.Endpoints ?? []).map((e) => ({
    id: e.EndpointId,
    status: e.EndpointStatus,
    connectionStatus: e.ConnectionStatus,
    domainName: e.EndpointDomain,
    serviceId: e.ServiceId,
    key: tagValue(e, KEY_TAG),
  }));
  return b.NextToken ? { items, nextToken: b.NextToken } : { items };
}

/** RFC 3986 percent-encoding as the RPC signature specifies (space %20, * %2A, ~ kept). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Signature version 1.0 (HMAC-SHA1) of the RPC style, as documented: sort the parameters,
 * percent-encode names and values, StringToSign = METHOD & %2F & encode(canonical query),
 * HMAC-SHA1 with "<AccessKeySecret>&", base64.
 */
export function rpcSignature(params: Query, method: string, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== "Signature")
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] as string)}`)
    .join("&");
  const stringToSign = `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonical)}`;
  return createHmac("sha1", `${secret}&`).update(stringToSign).digest("base64");
}
