import { ResilientInformer } from "@isthmus/k8s";
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { PVL_GROUP, PVL_PLURAL, PVL_VERSION, type PvlConfigObject, type PvlStatus } from "../domain/spec.js";
import type { PvlConfigSource } from "./source.js";

const coords = { group: PVL_GROUP, version: PVL_VERSION, plural: PVL_PLURAL };

export class ConflictError extends Error {}

function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

/** ASMPvlConfig objects on the mesh's config cluster (cluster-scoped, like `kubectl get asmpvlconfig default`). */
export class PvlConfigs implements PvlConfigSource {
  readonly api: CustomObjectsApi;
  private informer: ResilientInformer<KubernetesObject> | undefined;
  constructor(readonly kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  list() {
    return this.api.listClusterCustomObject(coords);
  }

  async get(name: string): Promise<PvlConfigObject | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ ...coords, name })) as PvlConfigObject;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** Replace metadata/spec (finalizers), with the object's resourceVersion: a stale write is a conflict. */
  async replace(obj: PvlConfigObject): Promise<PvlConfigObject> {
    try {
      return (await this.api.replaceClusterCustomObject({ ...coords, name: obj.metadata.name, body: obj })) as PvlConfigObject;
    } catch (err) {
      if (isConflict(err)) throw new ConflictError(`${obj.metadata.name} changed meanwhile`);
      throw err;
    }
  }

  async writeStatus(obj: PvlConfigObject, status: PvlStatus): Promise<PvlConfigObject> {
    try {
      return (await this.api.replaceClusterCustomObjectStatus({ ...coords, name: obj.metadata.name, body: { ...obj, status } })) as PvlConfigObject;
    } catch (err) {
      if (isConflict(err)) throw new ConflictError(`${obj.metadata.name} changed meanwhile`);
      throw err;
    }
  }

  /** A client-node informer (restarted on failure); a deletion needs no call: the finalizer keeps the object until cleanup. */
  async watch(changed: (name: string) => void, down: (err: unknown) => void): Promise<void> {
    this.informer = new ResilientInformer<KubernetesObject>(this.kc, `/apis/${PVL_GROUP}/${PVL_VERSION}/${PVL_PLURAL}`, () => this.list() as never, {
      upsert: (o) => changed(o.metadata?.name ?? ""),
      remove: () => {},
      down,
    });
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }
}
