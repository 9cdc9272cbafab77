import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import type { KindInfo } from "./kinds.js";
import type { Message } from "./messages.js";

export type ClusterObject = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** A write refused because the object changed since it was read (HTTP 409): the writer is stale. */
export class StaleWriteError extends Error {
  override name = "StaleWriteError";
}

const code = (err: unknown) => (err as { code?: number }).code;

/** Istio's status shape for analysis messages (`status.validationMessages`), plus the text and field. */
export function validationMessages(messages: readonly Message[]): Array<Record<string, unknown>> {
  return messages.map((m) => ({
    type: { code: m.code, name: m.name },
    level: m.level.toUpperCase(),
    description: m.message,
    ...(m.path ? { field: m.path } : {}),
    ...(m.code.startsWith("IST") ? { documentationUrl: `https://istio.io/latest/docs/reference/config/analysis/${m.code.toLowerCase()}/` } : {}),
  }));
}

/**
 * Configuration objects on the mesh's config cluster (the seeds' "ASM kubeconfig"), through
 * @kubernetes/client-node as kubectl would: create, replace with the read resourceVersion
 * (a concurrent change is a StaleWriteError), delete, and the status subresource.
 */
export class ClusterConfigStore {
  readonly api: CustomObjectsApi;
  constructor(readonly kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  private coords(info: KindInfo, version?: string) {
    return { group: info.group, version: version ?? (Object.keys(info.versions)[0] as string), plural: info.plural };
  }

  async get(info: KindInfo, namespace: string, name: string): Promise<ClusterObject | undefined> {
    try {
      return (await (info.namespaced
        ? this.api.getNamespacedCustomObject({ ...this.coords(info), namespace, name })
        : this.api.getClusterCustomObject({ ...this.coords(info), name }))) as ClusterObject;
    } catch (err) {
      if (code(err) === 404) return undefined;
      throw err;
    }
  }

  async list(info: KindInfo, namespace?: string): Promise<ClusterObject[]> {
    const r = (await (info.namespaced && namespace
      ? this.api.listNamespacedCustomObject({ ...this.coords(info), namespace })
      : this.api.listClusterCustomObject(this.coords(info)))) as { items?: ClusterObject[] };
    return r.items ?? [];
  }

  /** Create, or replace what is there (spec, labels, annotations); `unchanged` when equal. */
  async apply(info: KindInfo, manifest: ClusterObject): Promise<"created" | "configured" | "unchanged"> {
    const namespace = manifest.metadata?.namespace ?? "";
    const name = manifest.metadata?.name ?? "";
    const version = manifest.apiVersion?.split("/")[1];
    const current = await this.get(info, namespace, name);
    try {
      if (!current) {
        await (info.namespaced
          ? this.api.createNamespacedCustomObject({ ...this.coords(info, version), namespace, body: manifest })
          : this.api.createClusterCustomObject({ ...this.coords(info, version), body: manifest }));
        return "created";
      }
      const same =
        JSON.stringify(current.spec ?? {}) === JSON.stringify(manifest.spec ?? {}) &&
        JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(manifest.metadata?.labels ?? {});
      if (same) return "unchanged";
      // A resourceVersion written in the manifest is the version the write is based on; else the one just read.
      const body = {
        ...manifest,
        metadata: { ...current.metadata, ...manifest.metadata, resourceVersion: manifest.metadata?.resourceVersion ?? current.metadata?.resourceVersion },
      };
      await (info.namespaced
        ? this.api.replaceNamespacedCustomObject({ ...this.coords(info, version), namespace, name, body })
        : this.api.replaceClusterCustomObject({ ...this.coords(info, version), name, body }));
      return "configured";
    } catch (err) {
      if (code(err) === 409) throw new StaleWriteError(`${info.kind} ${namespace ? `${namespace}/` : ""}${name} changed since it was read; apply again`);
      throw err;
    }
  }

  async delete(info: KindInfo, namespace: string, name: string): Promise<boolean> {
    try {
      await (info.namespaced
        ? this.api.deleteNamespacedCustomObject({ ...this.coords(info), namespace, name })
        : this.api.deleteClusterCustomObject({ ...this.coords(info), name }));
      return true;
    } catch (err) {
      if (code(err) === 404) return false;
      throw err;
    }
  }

  /** Write `status.validationMessages` (leaving the rest of the status alone), unless it already says that. */
  async writeValidation(info: KindInfo, obj: ClusterObject, messages: readonly Message[]): Promise<boolean> {
    const wanted = validationMessages(messages);
    const now = (obj.status as { validationMessages?: unknown } | undefined)?.validationMessages ?? [];
    if (JSON.stringify(now) === JSON.stringify(wanted)) return false;
    const { validationMessages: _old, ...rest } = (obj.status ?? {}) as Record<string, unknown>;
    const status = wanted.length ? { ...rest, validationMessages: wanted } : rest;
    const body = { ...obj, status };
    const namespace = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    const version = obj.apiVersion?.split("/")[1];
    try {
      await (info.namespaced
        ? this.api.replaceNamespacedCustomObjectStatus({ ...this.coords(info, version), namespace, name, body })
        : this.api.replaceClusterCustomObjectStatus({ ...this.coords(info, version), name, body }));
      return true;
    } catch (err) {
      if (code(err) === 409 || code(err) === 404) return false; // a newer version is coming through the watch
      throw err;
    }
  }
}
