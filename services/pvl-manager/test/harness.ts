import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { kubeConfigFor } from "@isthmus/k8s";
import { createTestDatabase, KubeApiStandIn, type TestDatabase, uniqueMeshId, waitFor } from "@isthmus/testing";
import { ApiextensionsV1Api, CustomObjectsApi, loadYaml, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { type CloudTopology, type PvlConfigObject, SimulatedCloud } from "../src/index.js";

export const CLUSTER = "cab9ace222210457a83f09fcd42****";
export const ACK_VSW = "vsw-bp1jsgsanpvxpj32yai50";
export const ASM_VSW = "vsw-bp1l5hini55sstnwd2skf";

/** Seed 004's world: the ASM VPC with a vSwitch in cn-hangzhou-j, the ACK cluster's VPC with one in cn-hangzhou-i. */
export function seedTopology(apiServerAddress = "127.0.0.1:1"): CloudTopology {
  return {
    asm: {
      vpcId: "vpc-asm-1",
      region: "cn-hangzhou",
      controlPlaneLoadBalancerId: "lb-asm-pilot",
      vSwitches: [
        { id: ASM_VSW, zone: "cn-hangzhou-j" },
        { id: "vsw-asm-other", zone: "cn-hangzhou-k" },
      ],
    },
    clusters: {
      [CLUSTER]: { vpcId: "vpc-ack-1", apiServerLoadBalancerId: "lb-ack-apiserver", apiServerAddress, vSwitches: [{ id: ACK_VSW, zone: "cn-hangzhou-i" }] },
      "c-second": {
        vpcId: "vpc-ack-2",
        apiServerLoadBalancerId: "lb-ack2-apiserver",
        apiServerAddress,
        vSwitches: [{ id: "vsw-second", zone: "cn-hangzhou-i" }],
      },
    },
  };
}

/** The seed's example spec. */
export const seedSpec = () => ({
  ackVpcEndpoint: [{ clusterId: CLUSTER, vSwitches: [{ vSwitchId: ACK_VSW, zoneId: "cn-hangzhou-j" }] }],
  asmVpcEndpoint: { vSwitches: [{ vSwitchId: ASM_VSW, zoneId: "cn-hangzhou-i" }] },
});

export class PvlHarness {
  readonly mesh = uniqueMeshId("pvl");
  api = new KubeApiStandIn("asm-config");
  db!: TestDatabase;
  cloud!: SimulatedCloud;

  async start(topology = seedTopology(), o: Parameters<SimulatedCloud["seed"]>[1] = { provisionMs: 200 }): Promise<void> {
    await this.api.start();
    // The CRD from deploy/crds, applied as `kubectl apply` would.
    const crd = loadYaml<V1CustomResourceDefinition>(
      readFileSync(fileURLToPath(new URL("../../../deploy/crds/asmpvlconfigs.istio.alibabacloud.com.yaml", import.meta.url)), "utf8"),
    );
    await kubeConfigFor({ kubeconfig: this.api.kubeconfig() }).makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    this.db = await createTestDatabase();
    this.cloud = await SimulatedCloud.open(this.db.url);
    await this.cloud.seed(topology, o);
  }

  get objects(): CustomObjectsApi {
    return kubeConfigFor({ kubeconfig: this.api.kubeconfig() }).makeApiClient(CustomObjectsApi);
  }

  async apply(spec: unknown, name = "default"): Promise<void> {
    const existing = await this.get(name);
    const body = { apiVersion: "istio.alibabacloud.com/v1beta1", kind: "ASMPvlConfig", metadata: existing ? { ...existing.metadata } : { name }, spec };
    if (existing) await this.objects.replaceClusterCustomObject({ group: "istio.alibabacloud.com", version: "v1beta1", plural: "asmpvlconfigs", name, body });
    else await this.objects.createClusterCustomObject({ group: "istio.alibabacloud.com", version: "v1beta1", plural: "asmpvlconfigs", body });
  }

  async get(name = "default"): Promise<PvlConfigObject | undefined> {
    return this.api.get("istio.alibabacloud.com/v1beta1", "ASMPvlConfig", undefined, name) as PvlConfigObject | undefined;
  }

  until(cond: () => Promise<boolean> | boolean, ms = 20_000, what = "condition"): Promise<void> {
    return waitFor(cond, ms, what);
  }

  async stop(): Promise<void> {
    await this.cloud?.close();
    await this.api.stop();
    await this.db?.drop();
  }
}
