/** What the cloud says exists: the ASM instance's VPC and each registered cluster's VPC. */
export interface VSwitchInfo {
  id: string;
  zone: string;
}

export interface CloudTopology {
  asm: { vpcId: string; vSwitches: VSwitchInfo[]; controlPlaneLoadBalancerId: string; region: string };
  clusters: Record<string, { vpcId: string; vSwitches: VSwitchInfo[]; apiServerLoadBalancerId: string; apiServerAddress: string }>;
}
