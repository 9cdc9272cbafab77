// Regenerates console/docs/*.png, the README's pictures of each view, from a fresh `isthmus up`:
//   npm run screenshots -w console      (needs a NATS on NATS_URL or 127.0.0.1:4222, and Chromium)
// The script applies what the views need to show something: a DestinationRule and a VirtualService
// on CONFIG (what `isthmus apply` will publish) and, as pvl-manager needs a cloud and a config
// cluster, one ASMPvlConfig status as pvl-manager reports it.
import { join } from "node:path";
import { Bus, Publisher } from "@isthmus/bus";
import { buildEvent, pvlStatusChangedV1 } from "@isthmus/events";
import { launchChromium, noChromiumReason, uniqueMeshId } from "@isthmus/testing";
import { destinationRule, virtualService } from "./fixtures.js";
import { scaleHelloworld, startUpStack } from "./stack.js";

const out = join(import.meta.dirname, "..", "docs");
const reason = noChromiumReason();
if (reason) {
  process.stderr.write(`screenshots: ${reason}\n`);
  process.exit(1);
}
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const stack = await startUpStack({ mesh: uniqueMeshId("shots"), natsUrl });
const bus = await Bus.connect({ servers: natsUrl, waitOnFirstConnect: false });
const browser = await launchChromium({ width: 1400, height: 860 });
try {
  const pub = new Publisher(bus.js);
  const now = new Date().toISOString();
  for (const b of [
    destinationRule(stack.mesh),
    virtualService(stack.mesh, [90, 10]),
    virtualService(stack.mesh, [70, 30]),
    buildEvent(
      pvlStatusChangedV1,
      stack.mesh,
      {
        name: "default",
        status: "Provisioning",
        conditions: [
          { type: "Validated", status: "True", reason: "Valid", message: "spec is valid", lastTransitionTime: now },
          {
            type: "Ready",
            status: "False",
            reason: "ZoneMismatch",
            message: "ackVpcEndpoint zone cn-hangzhou-x is not a zone of the ASM VPC",
            lastTransitionTime: now,
          },
        ],
        resourceStatus: { status: "Provisioning", clusters: [{ clusterId: "cluster-1", pvlEndpoint: { connectionStatus: "Pending", status: "Creating" } }] },
      },
      { source: "pvl-manager" },
    ),
  ])
    await pub.publish(b.subject, b.event);
  scaleHelloworld(stack.dir, "cluster-1", 2);
  const page = await browser.context.newPage();
  const shot = async (name: string, hash: string, ready: string) => {
    await page.goto(`${stack.consoleUrl}${hash}`);
    await page.locator("body[data-ready=true]").waitFor();
    await page.locator(ready).first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(out, `${name}.png`) });
    process.stdout.write(`wrote ${join(out, `${name}.png`)}\n`);
  };
  // The console samples every 10 s: wait for a few samples, so the charts have a line.
  await page.waitForTimeout(25_000);
  await shot("topology", "#/topology", "[data-testid=cluster-cluster-2]");
  await shot("traffic", `#/traffic/${encodeURIComponent("helloworld.default.svc.cluster.local")}`, "[data-testid=edge-label]");
  await shot("proxies", `#/proxies/${encodeURIComponent("sidecar~127.0.0.1~sleep-local.default~default.svc.cluster.local")}`, "[data-testid=proxy-row]");
  await shot("config", `#/config/${encodeURIComponent(virtualService(stack.mesh, [70, 30]).subject)}`, "[data-testid=version]");
  await shot("security", "#/security", "[data-testid=trust-bundles] .cert");
  await shot("privatelink", "#/privatelink", "[data-testid=pvl-default]");
  await shot("events", "#/events", "[data-testid=event-row]");
} finally {
  await browser.close();
  await stack.stop();
  const { meshStreamSpecs } = await import("@isthmus/bus");
  for (const s of meshStreamSpecs(stack.mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  await bus.close();
}
process.exit(0);
