import type { CloudTopology } from "./topology.js";

/**
 * The simulated cloud of the local stack: the ASM instance's VPC and one VPC per demo cluster
 * (cluster-1, cluster-2), laid out like seed 004's example (each side has a vSwitch in a zone
 * the other side lacks, so the spec must use cross-VPC zone matching).
 */
export function demoTopology(apiServerAddress = "127.0.0.1:6443"): CloudTopology {
  return {
    asm: {
      vpcId: "vpc-asm-demo",
      region: "cn-hangzhou",
      controlPlaneLoadBalancerId: "lb-asm-pilot",
      vSwitches: [
        { id: "vsw-asm-j", zone: "cn-hangzhou-j" },
        { id: "vsw-asm-k", zone: "cn-hangzhou-k" },
      ],
    },
    clusters: {
      "cluster-1": {
        vpcId: "vpc-cluster-1",
        apiServerLoadBalancerId: "lb-cluster-1-apiserver",
        apiServerAddress,
        vSwitches: [{ id: "vsw-c1-i", zone: "cn-hangzhou-i" }],
      },
      "cluster-2": {
        vpcId: "vpc-cluster-2",
        apiServerLoadBalancerId: "lb-cluster-2-apiserver",
        apiServerAddress,
        vSwitches: [{ id: "vsw-c2-i", zone: "cn-hangzhou-i" }],
      },
    },
  };
}

/** The topology as `isthmus up` prints it: what to put in an ASMPvlConfig. */
export function describeTopology(t: CloudTopology): string[] {
  const vsw = (v: { id: string; zone: string }[]) => v.map((x) => `${x.id} (${x.zone})`).join(", ");
  return [
    `ASM ${t.asm.vpcId} in ${t.asm.region}: vSwitches ${vsw(t.asm.vSwitches)}; control plane LB ${t.asm.controlPlaneLoadBalancerId}`,
    ...Object.entries(t.clusters).map(([id, c]) => `${id} ${c.vpcId}: vSwitches ${vsw(c.vSwitches)}; API server LB ${c.apiServerLoadBalancerId}`),
  ];
}
