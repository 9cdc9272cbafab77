import { type Bus, Publisher } from "@isthmus/bus";
import { buildEvent, configResourceV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatTable, type TailLine } from "../src/index.js";
import { runIsthmus } from "./run-cli.js";

let fx: MeshFixture;
let bus: Bus;
let mesh: string;

beforeAll(async () => {
  fx = await meshFixture("tail");
  ({ bus, mesh } = fx);
});
afterAll(() => fx.dispose());

const run = (args: string[]) => runIsthmus(args, { env: { ...process.env, NATS_URL: testNatsUrl() } });

describe("isthmus events tail", () => {
  it("prints each event as one JSON line, and says why a message is not a valid event", async () => {
    const e = buildEvent(
      configResourceV1,
      mesh,
      { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "default", name: "reviews", labels: {}, spec: { hosts: ["reviews"] } },
      { source: "test" },
    );
    await new Publisher(bus.js).publish(e.subject, e.event);
    await bus.js.publish(`mesh.${mesh}.config.VirtualService.default.broken`, new TextEncoder().encode("not an event"));
    const r = await run(["events", "tail", "--mesh", mesh, "--domain", "config", "--from", "all", "--limit", "2"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as TailLine);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ subject: e.subject, type: configResourceV1.type, id: e.event.id, data: { name: "reviews" } });
    expect(lines[1]?.subject).toBe(`mesh.${mesh}.config.VirtualService.default.broken`);
    expect(lines[1]?.invalid).toMatch(/^not JSON/);
  });

  it("fails with a clear message for a mesh that has no streams or a bad domain", async () => {
    const none = await run(["events", "tail", "--mesh", "no-such-mesh-here", "--limit", "1"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no event streams for mesh no-such-mesh-here/);
    const bad = await run(["events", "tail", "--mesh", mesh, "--domain", "weather"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown domain weather/);
  });

  it("formats a readable table row", () => {
    const row = formatTable({
      stream: "s",
      seq: 1,
      subject: "mesh.m.ca.x",
      received: "2026-01-01T00:00:00.000Z",
      type: "io.isthmus.ca.x.v1",
      time: "2026-01-01T00:00:01.123Z",
      data: { a: 1 },
    });
    expect(row).toBe(`2026-01-01 00:00:01Z  ${"io.isthmus.ca.x.v1".padEnd(44)}  mesh.m.ca.x  {"a":1}`);
  });
});
