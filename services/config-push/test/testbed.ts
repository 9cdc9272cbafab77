import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, configResourceV1, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { formatViolation, grpcBootstrap } from "@isthmus/xds";
import { type ConfigPushConfig, type RunningConfigPush, startConfigPush } from "../src/index.js";

const CLI = fileURLToPath(new URL("../../../cli/src/main.ts", import.meta.url));

/** The `isthmus` CLI as a user runs it: its exit code and output (stdout, then stderr). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", CLI, ...args],
      { timeout: 30_000, env, cwd: fileURLToPath(new URL("../../../", import.meta.url)) },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Resolves once config-push has admitted a configuration object into its model (admission runs before it is translated). */
export function configApplied(cp: RunningConfigPush, kind: string, name: string, namespace = "default"): Promise<void> {
  return waitFor(
    () => [...cp.model.allConfigs()].some((c) => c.kind === kind && c.name === name && c.namespace === namespace),
    20_000,
    `${kind} ${namespace}/${name} admitted`,
  );
}

/** Fails when a config-push started with `validateXds` pushed anything Envoy would refuse. */
export function expectNothingRefused(cp: RunningConfigPush): void {
  const errors = cp.xdsViolations.filter((v) => v.severity === "error");
  if (errors.length) throw new Error(`config-push pushed resources Envoy would refuse:\n${errors.map(formatViolation).join("\n")}`);
}

export interface TestEndpoint {
  port: number;
  labels?: Record<string, string>;
  address?: string;
  serviceAccount?: string;
  network?: string;
  pod?: string;
}

export interface Testbed {
  fx: MeshFixture;
  cp: RunningConfigPush;
  pub: Publisher;
  /** A service's state as discovery would publish it: endpoints on 127.0.0.1 at these ports. */
  publishService(name: string, endpoints: TestEndpoint[], o?: { cluster?: string; traceparent?: string }): Promise<void>;
  publishConfig(
    kind: "VirtualService" | "DestinationRule" | "PeerAuthentication",
    name: string,
    spec: Record<string, unknown>,
    namespace?: string,
  ): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * config-push on a mesh of the test's own, and this process's gRPC xDS client pointed at it
 * (one bootstrap per test file: vitest runs each file in its own process).
 */
export async function testbed(
  prefix: string,
  nodeId: string,
  o: { debounceMs?: number; instance?: string; config?: Partial<ConfigPushConfig>; nodeMetadata?: Record<string, string> } = {},
): Promise<Testbed> {
  const fx = await meshFixture(prefix);
  const pub = new Publisher(fx.bus.js);
  const cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: o.debounceMs ?? 50,
    // Everything pushed in a test is checked against Envoy's constraints; dispose() fails on a violation.
    validateXds: true,
    ...(o.instance ? { instance: o.instance } : {}),
    ...o.config,
  });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = grpcBootstrap({ server: `127.0.0.1:${cp.port}`, nodeId, ...(o.nodeMetadata ? { metadata: o.nodeMetadata } : {}) });
  xds.register();
  return {
    fx,
    cp,
    pub,
    async publishService(name, endpoints, so = {}) {
      const cluster = so.cluster ?? "c1";
      const e = buildEvent(
        serviceStateV1,
        fx.mesh,
        {
          cluster,
          namespace: "default",
          name,
          hostname: `${name}.default.svc.cluster.local`,
          ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
          endpoints: endpoints.map((ep) => ({
            address: ep.address ?? "127.0.0.1",
            ports: { grpc: ep.port },
            ready: true,
            serving: true,
            terminating: false,
            cluster,
            network: ep.network ?? "",
            locality: { region: "r", zone: "z", subzone: "" },
            labels: ep.labels ?? { app: name },
            ...(ep.serviceAccount ? { serviceAccount: ep.serviceAccount } : {}),
            ...(ep.pod ? { pod: ep.pod } : {}),
          })),
          stale: false,
        },
        { source: "test/discovery", ...(so.traceparent ? { traceparent: so.traceparent } : {}) },
      );
      await pub.publish(e.subject, e.event);
    },
    async publishConfig(kind, name, spec, namespace = "default") {
      const apiVersion = kind === "PeerAuthentication" ? "security.istio.io/v1" : "networking.istio.io/v1";
      const e = buildEvent(configResourceV1, fx.mesh, { apiVersion, kind, namespace, name, labels: {}, spec }, { source: "test/config" });
      await pub.publish(e.subject, e.event);
    },
    async dispose() {
      await cp.stop();
      await fx.dispose();
      expectNothingRefused(cp);
    },
  };
}
