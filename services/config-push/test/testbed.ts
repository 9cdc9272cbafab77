import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, configResourceV1, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl } from "@isthmus/testing";
import { type RunningConfigPush, startConfigPush } from "../src/index.js";

export interface Testbed {
  fx: MeshFixture;
  cp: RunningConfigPush;
  pub: Publisher;
  /** A service's state as discovery would publish it: endpoints on 127.0.0.1 at these ports. */
  publishService(name: string, endpoints: Array<{ port: number; labels?: Record<string, string> }>): Promise<void>;
  publishConfig(kind: "VirtualService" | "DestinationRule", name: string, spec: Record<string, unknown>): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * config-push on a mesh of the test's own, and this process's gRPC xDS client pointed at it
 * (one bootstrap per test file: vitest runs each file in its own process).
 */
export async function testbed(prefix: string, nodeId: string, o: { debounceMs?: number; instance?: string } = {}): Promise<Testbed> {
  const fx = await meshFixture(prefix);
  const pub = new Publisher(fx.bus.js);
  const cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: o.debounceMs ?? 50,
    ...(o.instance ? { instance: o.instance } : {}),
  });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: nodeId, locality: {} },
  });
  xds.register();
  return {
    fx,
    cp,
    pub,
    async publishService(name, endpoints) {
      const e = buildEvent(
        serviceStateV1,
        fx.mesh,
        {
          cluster: "c1",
          namespace: "default",
          name,
          hostname: `${name}.default.svc.cluster.local`,
          ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
          endpoints: endpoints.map((ep) => ({
            address: "127.0.0.1",
            ports: { grpc: ep.port },
            ready: true,
            serving: true,
            terminating: false,
            cluster: "c1",
            network: "",
            locality: { region: "r", zone: "z", subzone: "" },
            labels: ep.labels ?? { app: name },
          })),
          stale: false,
        },
        { source: "test/discovery" },
      );
      await pub.publish(e.subject, e.event);
    },
    async publishConfig(kind, name, spec) {
      const e = buildEvent(
        configResourceV1,
        fx.mesh,
        { apiVersion: "networking.istio.io/v1", kind, namespace: "default", name, labels: {}, spec },
        { source: "test/config" },
      );
      await pub.publish(e.subject, e.event);
    },
    async dispose() {
      await cp.stop();
      await fx.dispose();
    },
  };
}
