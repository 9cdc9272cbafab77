import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, configResourceV1, eventSubject, proxyStatusV1, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConfigPush, startConfigPush, syncState } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";

let fx: MeshFixture;
let cp: RunningConfigPush;
let pub: Publisher;
const servers: Array<{ stop(): void }> = [];
const HOST = "nacked.default.svc.cluster.local";
const NODE = "sidecar~127.0.0.1~nack-client.default~default.svc.cluster.local";

beforeAll(async () => {
  fx = await meshFixture("nack");
  pub = new Publisher(fx.bus.js);
  cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 50,
    instance: "config-push-a",
  });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: NODE, locality: {} },
  });
  xds.register();
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await cp.stop();
  await fx.dispose();
});

describe("a resource the client NACKs", () => {
  it("leaves the client on its previous config, and proxy-status shows the NACK", async () => {
    const v1 = await helloworldServer("v1", "n-v1");
    servers.push(v1);
    const s = buildEvent(
      serviceStateV1,
      fx.mesh,
      {
        cluster: "c1",
        namespace: "default",
        name: "nacked",
        hostname: HOST,
        ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
        endpoints: [
          {
            address: "127.0.0.1",
            ports: { grpc: v1.port },
            ready: true,
            serving: true,
            terminating: false,
            cluster: "c1",
            network: "",
            locality: { region: "", zone: "", subzone: "" },
            labels: {},
          },
        ],
        stale: false,
      },
      { source: "t" },
    );
    await pub.publish(s.subject, s.event);
    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    await waitFor(async () => (await sayHello(client).catch(() => "")).includes("v1"), 20_000, "working config");

    // A VirtualService whose weights sum to 0: a route the client must refuse.
    const bad = buildEvent(
      configResourceV1,
      fx.mesh,
      {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        namespace: "default",
        name: "nacked",
        labels: {},
        spec: {
          hosts: ["nacked"],
          http: [
            {
              route: [
                { destination: { host: "nacked" }, weight: 0 },
                { destination: { host: "nacked" }, weight: 0 },
              ],
            },
          ],
        },
      },
      { source: "t" },
    );
    await pub.publish(bad.subject, bad.event);
    const proxy = () => [...cp.ads.proxies.values()].find((p) => p.id === NODE);
    await waitFor(() => Boolean(proxy()?.types.get(TYPE.route)?.nacked), 10_000, "RDS NACK");
    const rds = proxy()?.types.get(TYPE.route);
    expect(rds?.nacked).toBe(cp.cache.version(TYPE.route));
    expect(rds?.acked).not.toBe(rds?.nacked);
    expect(rds?.error).toBeTruthy();
    // Still on the last good config: calls keep working.
    for (let i = 0; i < 20; i++) expect(await sayHello(client)).toContain("v1");

    // And an operator sees it.
    const subject = eventSubject(proxyStatusV1, fx.mesh, { proxyId: NODE });
    await waitFor(
      async () => {
        const m = await fx.bus.jsm.streams.getMessage(`PUSH_${fx.mesh}`, { last_by_subj: subject }).catch(() => null);
        return m?.json<{ data: { types: Record<string, { nacked?: string }> } }>().data.types[TYPE.route]?.nacked !== undefined;
      },
      10_000,
      "NACK on the PUSH stream",
    );
    expect(syncState(rds)).toBe("NACKED");
    const cli = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", fileURLToPath(new URL("../../../cli/src/main.ts", import.meta.url)), "proxy-status", "--mesh", fx.mesh],
      {
        cwd: fileURLToPath(new URL("../../../", import.meta.url)),
        env: { ...process.env, NATS_URL: testNatsUrl() },
      },
    );
    let out = "";
    cli.stdout.on("data", (b) => {
      out += b;
    });
    await new Promise((r) => cli.once("exit", r));
    expect(out).toMatch(new RegExp(`${NODE.replace(/[.~]/g, "\\$&")}\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+NACKED\\s+config-push-a`));
    expect(out).toMatch(/RDS NACK: /);
    client.close();
  });
});
