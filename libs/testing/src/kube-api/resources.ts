/** A resource type the stand-in serves: where it lives in the API and whether it is namespaced. */
export interface ResourceType {
  group: string; // "" for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Has a /status subresource: spec writes ignore status and status writes ignore spec. */
  statusSubresource: boolean;
}

export const BUILTIN_RESOURCES: ResourceType[] = [
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true, statusSubresource: true },
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, statusSubresource: true },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, statusSubresource: true },
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, statusSubresource: true },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, statusSubresource: false },
  { group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true, statusSubresource: false },
  { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true, statusSubresource: false },
  {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
    statusSubresource: true,
  },
];

export const apiVersionOf = (r: ResourceType) => (r.group ? `${r.group}/${r.version}` : r.version);
export const resourceKey = (r: ResourceType) => `${r.group}/${r.version}/${r.plural}`;
