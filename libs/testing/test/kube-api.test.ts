import { kubeConfigFor } from "@isthmus/k8s";
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  makeInformer,
  type V1Service,
  Watch,
} from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeApiStandIn, waitFor } from "../src/index.js";

let api: KubeApiStandIn;
let kc: KubeConfig;
beforeEach(async () => {
  api = new KubeApiStandIn();
  await api.start();
  kc = kubeConfigFor({ kubeconfig: api.kubeconfig() });
});
afterEach(() => api.stop());

const svc = (name: string, ns = "default"): V1Service & { metadata: { name: string } } => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: { ports: [{ name: "http", port: 80 }] },
});

function serviceInformer() {
  const core = kc.makeApiClient(CoreV1Api);
  const inf = makeInformer(kc, "/api/v1/services", () => core.listServiceForAllNamespaces());
  const seen: string[] = [];
  inf.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
  inf.on("update", (o) => seen.push(`update ${o.metadata?.name}`));
  inf.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
  return { inf, seen };
}

describe("Kubernetes API stand-in, through @kubernetes/client-node", () => {
  it("lists with a resourceVersion and watches ADDED, MODIFIED, DELETED", async () => {
    api.apply(svc("a"));
    const { inf, seen } = serviceInformer();
    await inf.start();
    await waitFor(() => seen.includes("add a"), 5_000);
    api.apply({ ...svc("a"), spec: { ports: [{ name: "http", port: 81 }] } });
    api.apply(svc("b", "other"));
    api.remove("v1", "Service", "default", "a");
    await waitFor(() => seen.length === 4, 5_000, "watch events");
    expect(seen).toEqual(["add a", "update a", "add b", "delete a"]);
    expect(inf.list().map((s) => s.metadata?.name)).toEqual(["b"]);
    await inf.stop();
  });

  it("answers 410 Gone for expired history; the client re-lists and still sees a deletion made meanwhile", async () => {
    api.apply(svc("keep"));
    api.apply(svc("doomed"));
    const { inf, seen } = serviceInformer();
    await inf.start();
    await waitFor(() => seen.length === 2, 5_000);
    api.dropWatches(); // the watch ends...
    api.remove("v1", "Service", "default", "doomed"); // ...a deletion happens while nobody watches...
    api.expireHistory(); // ...and the history that would have told it is gone: resume -> 410 -> re-list.
    await waitFor(() => seen.includes("delete doomed"), 10_000, "deletion after re-list");
    expect(inf.list().map((s) => s.metadata?.name)).toEqual(["keep"]);
    await inf.stop();
  });

  it("sends BOOKMARK events to watches that allow them", async () => {
    const types: string[] = [];
    const req = await new Watch(kc).watch(
      "/api/v1/namespaces/default/services",
      { allowWatchBookmarks: true, resourceVersion: String(api.store.resourceVersion) },
      (type) => {
        types.push(type);
      },
      () => {},
    );
    await waitFor(() => types.includes("BOOKMARK"), 5_000, "bookmark");
    req.abort();
  });

  it("serves CRDs with a status subresource, finalizers and merge patches", async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "widgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "widgets", kind: "Widget", singular: "widget" },
          versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} } }],
        },
      },
    });
    const co = kc.makeApiClient(CustomObjectsApi);
    const g = { group: "example.com", version: "v1", namespace: "default", plural: "widgets" };
    await co.createNamespacedCustomObject({
      ...g,
      body: {
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w", finalizers: ["example.com/cleanup"] },
        spec: { size: 1 },
        status: { phase: "ignored" },
      },
    });
    const w = (await co.getNamespacedCustomObject({ ...g, name: "w" })) as { metadata: { resourceVersion: string }; status?: unknown };
    expect(w.status).toBeUndefined(); // status is not writable through the main resource
    await co.replaceNamespacedCustomObjectStatus({ ...g, name: "w", body: { ...w, status: { phase: "Ready" }, spec: { size: 99 } } });
    const after = (await co.getNamespacedCustomObject({ ...g, name: "w" })) as { spec: { size: number }; status: { phase: string } };
    expect(after).toMatchObject({ spec: { size: 1 }, status: { phase: "Ready" } });
    // A stale resourceVersion is a conflict.
    await expect(co.replaceNamespacedCustomObject({ ...g, name: "w", body: { ...w, spec: { size: 2 } } })).rejects.toMatchObject({ code: 409 });
    // Deletion with a finalizer only marks it terminating; removing the finalizer deletes it.
    await co.deleteNamespacedCustomObject({ ...g, name: "w" });
    const terminating = (await co.getNamespacedCustomObject({ ...g, name: "w" })) as { metadata: { deletionTimestamp?: string; resourceVersion: string } };
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    await co.replaceNamespacedCustomObject({ ...g, name: "w", body: { ...terminating, metadata: { ...terminating.metadata, finalizers: [] } } });
    await expect(co.getNamespacedCustomObject({ ...g, name: "w" })).rejects.toMatchObject({ code: 404 });
  });

  it("serves Leases with optimistic concurrency (leader election)", async () => {
    const co = kc.makeApiClient(CoordinationV1Api);
    const lease = await co.createNamespacedLease({
      namespace: "kube-system",
      body: { metadata: { name: "discovery-cluster-1" }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } },
    });
    await co.replaceNamespacedLease({ namespace: "kube-system", name: "discovery-cluster-1", body: { ...lease, spec: { holderIdentity: "b" } } });
    await expect(
      co.replaceNamespacedLease({ namespace: "kube-system", name: "discovery-cluster-1", body: { ...lease, spec: { holderIdentity: "c" } } }),
    ).rejects.toMatchObject({ code: 409 });
  });

  it("goes down and comes back on the same port: the client sees errors, then the same objects", async () => {
    api.apply(svc("persistent"));
    const core = kc.makeApiClient(CoreV1Api);
    await api.goDown();
    await expect(core.listNamespacedService({ namespace: "default" })).rejects.toThrow();
    await api.comeUp();
    const list = await core.listNamespacedService({ namespace: "default" });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(["persistent"]);
    api.delayMs = 200;
    const t0 = Date.now();
    await core.listNamespacedService({ namespace: "default" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });
});
