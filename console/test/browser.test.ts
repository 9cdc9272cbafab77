import { readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { Bus, Publisher } from "@isthmus/bus";
import { buildEvent, pvlStatusChangedV1 } from "@isthmus/events";
import { FIXES } from "@isthmus/pvl-manager";
import { launchChromium, meshFixture, noChromiumReason, testNatsUrl, testTlsFiles, uniqueMeshId } from "@isthmus/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsole } from "../src/service.js";
import { cluster, destinationRule, virtualService } from "./fixtures.js";
import { scaleHelloworld, startUpStack, type UpStack } from "./stack.js";

// Acceptance of the console in a real browser (Debian's Chromium driven by playwright-core),
// on a fresh `isthmus up` run as a child process.
const skip = noChromiumReason();
if (skip) process.stderr.write(`console browser tests skipped: ${skip}\n`);

/** The page settles within seconds; a busy two-core machine gets 15 s before a check fails. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

const DEMO_CLIENT = "sidecar~127.0.0.1~sleep-local.default~default.svc.cluster.local";

describe.skipIf(skip !== undefined)("the console in a browser, on isthmus up", () => {
  let stack: UpStack;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let bus: Bus;

  beforeAll(async () => {
    stack = await startUpStack({ mesh: uniqueMeshId("cweb"), natsUrl: testNatsUrl() });
    browser = await launchChromium();
    page = await browser.context.newPage();
    bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    const code = await stack?.stop();
    expect(code).toBe(0);
    if (stack) {
      const { meshStreamSpecs } = await import("@isthmus/bus");
      for (const s of meshStreamSpecs(stack.mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    }
    await bus?.close();
  });

  /** What the config admission path (`isthmus apply`, not built yet) will publish: a config resource event on CONFIG. */
  const apply = async (b: { subject: string; event: Parameters<Publisher["publish"]>[1] }): Promise<void> => {
    await new Publisher(bus.js).publish(b.subject, b.event);
  };

  it("topology: cluster-1 (managed, network1) and cluster-2 (discovery-only, network2) with helloworld in each; a scaled endpoint shows without a reload", async () => {
    expect(stack.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(stack.consoleUrl);
    await page.locator("body[data-ready=true]").waitFor();
    const c1 = page.getByTestId("network-network1").getByTestId("cluster-cluster-1");
    const c2 = page.getByTestId("network-network2").getByTestId("cluster-cluster-2");
    await poll(() => c1.getByTestId("mode").textContent()).toBe("managed");
    await poll(() => c2.getByTestId("mode").textContent()).toBe("discovery-only");
    await poll(() => c1.getByTestId("state").textContent()).toMatch(/^Synced/);
    const ready1 = c1.getByTestId("service-helloworld").getByTestId("ready");
    await poll(() => ready1.textContent()).toBe("1");
    await poll(() => c2.getByTestId("service-helloworld").getByTestId("ready").textContent()).toBe("1");

    await page.evaluate("window.__sameDocument = true");
    const t0 = Date.now();
    scaleHelloworld(stack.dir, "cluster-1", 3);
    await ready1.filter({ hasText: "3" }).waitFor({ timeout: 20_000 });
    process.stdout.write(`console: scaled endpoint count on the open page after ${Date.now() - t0} ms\n`);
    expect(await page.evaluate("window.__sameDocument")).toBe(true);
  });

  it("proxies: the demo client SYNCED; a route it rejects turns it NACKED with the reason", async () => {
    await page.getByTestId("nav-proxies").click();
    const row = page.locator(`[data-testid=proxy-row][data-proxy="${DEMO_CLIENT}"]`);
    await poll(async () => (await row.locator("td").allTextContents()).slice(2, 6)).toEqual(["SYNCED", "SYNCED", "SYNCED", "SYNCED"]);
    // Every demo workload is 127.0.0.1: the proxy's address names both clusters.
    await poll(() => row.locator("td").nth(1).textContent()).toBe("cluster-1, cluster-2");

    // Weights summing to 0: gRPC's xDS client refuses the route configuration.
    const bad = virtualService(stack.mesh, [0, 0], { subsets: false });
    await apply(bad);
    await poll(async () => (await row.locator("td").allTextContents()).slice(2, 6)).toContain("NACKED");
    await row.getByRole("link").click();
    const detail = page.getByTestId("proxy-detail");
    await poll(() => detail.getByTestId("nack-RDS").textContent()).toMatch(/\S/);
    // Its config dump, from the config-push serving it.
    await detail.getByRole("button", { name: "config dump" }).click();
    await poll(() => detail.locator("pre.dump").textContent()).toContain("envoy.admin.v3.ListenersConfigDump");
  });

  it("config and traffic: an applied VirtualService shows with its history, and the traffic graph draws its weights", async () => {
    await apply(destinationRule(stack.mesh));
    await apply(virtualService(stack.mesh, [70, 30]));
    await page.getByTestId("nav-config").click();
    await page.getByTestId("config-row").filter({ hasText: "VirtualService" }).getByRole("link").click();
    const detail = page.getByTestId("config-detail");
    // The NACKed version and the fixed one, newest first.
    await poll(() => detail.getByTestId("version").count()).toBe(2);
    await poll(() => detail.getByTestId("version").first().textContent()).toMatch(/version 2 by isthmus-cli/);
    await poll(() => detail.locator(".diff .add").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('"weight": 70')]));

    await page.goto(`${stack.consoleUrl}#/traffic/${encodeURIComponent("helloworld.default.svc.cluster.local")}`);
    const graph = page.getByTestId("traffic-graph");
    await poll(() => graph.getByTestId("edge-label").allTextContents()).toEqual(expect.arrayContaining(["70%", "30%"]));
    await poll(() => page.getByTestId("subset").allTextContents()).toEqual([expect.stringContaining("cluster-1"), expect.stringContaining("cluster-2")]);
  });

  it("security: the trust bundle's root and the mesh's intermediate; PrivateLink: a status with the seed's fix", async () => {
    await page.getByTestId("nav-security").click();
    await poll(() => page.getByTestId("trust-bundles").textContent()).toMatch(/cluster\.local · version \d+ · 1 root[\s\S]*Isthmus Development Root/);
    await poll(() => page.getByTestId("intermediates").textContent()).toContain(`mesh ${stack.mesh}`);

    // What pvl-manager publishes (it needs a cloud and a config cluster, which the local stack has not).
    const now = new Date().toISOString();
    await apply(
      buildEvent(
        pvlStatusChangedV1,
        stack.mesh,
        {
          name: "default",
          status: "Failed",
          conditions: [{ type: "Ready", status: "False", reason: "QuotaExceeded", message: "endpoint quota reached", lastTransitionTime: now }],
          resourceStatus: { status: "Failed" },
        },
        { source: "pvl-manager" },
      ),
    );
    await page.getByTestId("nav-privatelink").click();
    await poll(() => page.getByTestId("pvl-default").textContent()).toContain(FIXES.QuotaExceeded);
  });

  it("events: the live feed pauses, filters, and links an event to the entity it changes", async () => {
    await page.getByTestId("nav-events").click();
    await poll(() => page.getByTestId("event-row").count()).toBeGreaterThan(0);
    await page.getByTestId("events-pause").click();
    const paused = await page.getByTestId("event-row").count();
    await apply(virtualService(stack.mesh, [60, 40]));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await page.getByTestId("event-row").count()).toBe(paused);
    await page.getByTestId("events-pause").click();
    // The VirtualService and the proxy status its push brings.
    await poll(() => page.getByTestId("event-row").count()).toBeGreaterThan(paused);
    await page.getByTestId("events-domain").selectOption("config");
    await poll(async () => (await page.getByTestId("event-row").allTextContents()).every((t) => t.includes(".config."))).toBe(true);
    const link = page.getByTestId("event-row").filter({ hasText: "config.resource" }).first().getByRole("link");
    await link.click();
    await poll(() => page.url()).toMatch(/#\/config\//);
  });
});

describe.skipIf(skip !== undefined)("the console exposed: HTTPS and a login token", () => {
  it("asks for the token, refuses a wrong one, and shows the mesh after signing in", async () => {
    const tls = await testTlsFiles();
    const fx = await meshFixture("cweb-tls");
    const status = cluster(fx.mesh, "cluster-1", "managed", "network1");
    await new Publisher(fx.bus.js).publish(status.subject, status.event);
    const c = await startConsole({
      mesh: fx.mesh,
      host: "127.0.0.1",
      port: 0,
      token: "the-console-login-token",
      tls: { certFile: tls.cert, keyFile: tls.key },
      bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
      log: () => {},
    });
    // The serving certificate verifies against the mesh's CA file...
    const healthz = await new Promise<number | undefined>((resolve, reject) =>
      httpsGet(new URL("./healthz", c.url), { ca: readFileSync(tls.ca) }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on("error", reject),
    );
    expect(healthz).toBe(200);
    // ...which is not in Chromium's store.
    const browser = await launchChromium({ ignoreHTTPSErrors: true });
    try {
      expect(c.url).toMatch(/^https:/);
      const page = await browser.context.newPage();
      await page.goto(c.url);
      expect(page.url()).toMatch(/\/login$/);
      await page.getByLabel("Login token").fill("not-the-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await poll(() => page.locator(".error").textContent()).toMatch(/not the console's login token/);
      await page.getByLabel("Login token").fill("the-console-login-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator("body[data-ready=true]").waitFor();
      await poll(() => page.getByTestId("cluster-cluster-1").getByTestId("mode").textContent()).toBe("managed");
    } finally {
      await browser.close();
      await c.stop();
      await fx.dispose();
    }
  });
});
