import * as grpc from "@grpc/grpc-js";
import { eventSubject, proxyStatusV1 } from "@isthmus/events";
import { HealthServer } from "@isthmus/telemetry";
import { testNatsUrl, waitFor } from "@isthmus/testing";
import { TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncState } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { runCli, type Testbed, testbed } from "./testbed.js";

let tb: Testbed;
const servers: Array<{ stop(): void }> = [];
const HOST = "nacked.default.svc.cluster.local";
const NODE = "sidecar~127.0.0.1~nack-client.default~default.svc.cluster.local";

beforeAll(async () => {
  tb = await testbed("nack", NODE, { instance: "config-push-a" });
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await tb.dispose();
});

describe("a resource the client NACKs", () => {
  it("leaves the client on its previous config, and proxy-status shows the NACK", async () => {
    const v1 = await helloworldServer("v1", "n-v1");
    servers.push(v1);
    await tb.publishService("nacked", [{ port: v1.port }]);
    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    await waitFor(async () => (await sayHello(client).catch(() => "")).includes("v1"), 20_000, "working config");

    // A VirtualService whose weights sum to 0: a route the client must refuse.
    await tb.publishConfig("VirtualService", "nacked", {
      hosts: ["nacked"],
      http: [
        {
          route: [
            { destination: { host: "nacked" }, weight: 0 },
            { destination: { host: "nacked" }, weight: 0 },
          ],
        },
      ],
    });
    const proxy = () => [...tb.cp.ads.proxies.values()].find((p) => p.id === NODE);
    await waitFor(() => Boolean(proxy()?.types.get(TYPE.route)?.nacked), 10_000, "RDS NACK");
    const rds = proxy()?.types.get(TYPE.route);
    expect(rds?.nacked).toBe(tb.cp.cache.version(TYPE.route));
    expect(rds?.acked).not.toBe(rds?.nacked);
    expect(rds?.error).toBeTruthy();
    // The Envoy-constraint validator saw it coming (and the testbed would fail on it otherwise).
    expect(tb.cp.xdsViolations.map((v) => [v.resource, v.rule])).toEqual([[`RouteConfiguration ${HOST}:5000`, "envoy.route.weights"]]);
    tb.cp.xdsViolations.length = 0;
    // Still on the last good config: calls keep working.
    for (let i = 0; i < 20; i++) expect(await sayHello(client)).toContain("v1");

    // And an operator sees it.
    const subject = eventSubject(proxyStatusV1, tb.fx.mesh, { proxyId: NODE });
    await waitFor(
      async () => {
        const m = await tb.fx.bus.jsm.streams.getMessage(`PUSH_${tb.fx.mesh}`, { last_by_subj: subject }).catch(() => null);
        return m?.json<{ data: { types: Record<string, { nacked?: string }> } }>().data.types[TYPE.route]?.nacked !== undefined;
      },
      10_000,
      "NACK on the PUSH stream",
    );
    expect(syncState(rds)).toBe("NACKED");
    const { out } = await runCli(["proxy-status", "--mesh", tb.fx.mesh], { ...process.env, NATS_URL: testNatsUrl() });
    expect(out).toMatch(new RegExp(`${NODE.replace(/[.~]/g, "\\$&")}\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+NACKED\\s+config-push-a`));
    expect(out).toMatch(/RDS NACK: /);

    // `isthmus proxy-config --validate` names what Envoy would refuse, and fails.
    const http = new HealthServer();
    for (const [path, h] of Object.entries(tb.cp.debug)) http.addRoute(path, h);
    const port = await http.listen();
    const checked = await runCli(["proxy-config", "all", NODE, "--url", `http://127.0.0.1:${port}`, "--validate"]);
    await http.close();
    expect(checked.code).toBe(1);
    expect(checked.out).toContain(
      `RouteConfiguration ${HOST}:5000: virtual_hosts[0].routes[0].route.weighted_clusters.clusters: the weights of a weighted_clusters must sum to more than 0 [envoy.route.weights]`,
    );
    expect(checked.out).toMatch(/resources checked against Envoy's constraints: 1 violation\(s\)/);
    expect(checked.out).toMatch(/isthmus: 1 resource constraint violation\(s\): Envoy would refuse this configuration/);
    client.close();
  });
});
