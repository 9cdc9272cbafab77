import { testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, IncompatibleStreamChangeError, meshStreamSpecs, provisionMeshStreams, provisionStream } from "../src/index.js";

let bus: Bus;
const mesh = uniqueMeshId("streams");

beforeAll(async () => {
  bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
});
afterAll(async () => {
  for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  await bus.close();
});

describe("stream provisioning", () => {
  it("creates every domain stream of a mesh, then leaves them alone", async () => {
    const first = await provisionMeshStreams(bus.jsm, mesh);
    expect(first.map((r) => r.action)).toEqual(Array(first.length).fill("created"));
    expect(first.map((r) => r.stream)).toContain(`DISCOVERY_${mesh}`);
    const again = await provisionMeshStreams(bus.jsm, mesh);
    expect(again.map((r) => r.action)).toEqual(Array(first.length).fill("unchanged"));
  });

  it("applies a compatible change in place, keeping the messages", async () => {
    const spec = meshStreamSpecs(mesh).find((s) => s.name === `CONFIG_${mesh}`);
    if (!spec) throw new Error("no CONFIG spec");
    await bus.js.publish(`mesh.${mesh}.config.x`, new Uint8Array([1]));
    const r = await provisionStream(bus.jsm, { ...spec, maxMsgsPerSubject: 3, description: "changed" });
    expect(r).toEqual({ stream: spec.name, action: "updated", changed: ["description", "maxMsgsPerSubject"] });
    const info = await bus.jsm.streams.info(spec.name);
    expect(info.config.max_msgs_per_subject).toBe(3);
    expect(info.state.messages).toBe(1);
  });

  it("refuses an incompatible change and names the field", async () => {
    const spec = meshStreamSpecs(mesh).find((s) => s.name === `CA_${mesh}`);
    if (!spec) throw new Error("no CA spec");
    const attempt = provisionStream(bus.jsm, { ...spec, storage: "memory" });
    await expect(attempt).rejects.toBeInstanceOf(IncompatibleStreamChangeError);
    await expect(provisionStream(bus.jsm, { ...spec, storage: "memory" })).rejects.toThrow(/field "storage" cannot change from "file" to "memory"/);
    await expect(provisionStream(bus.jsm, { ...spec, retention: "workqueue" })).rejects.toThrow(/field "retention"/);
    expect((await bus.jsm.streams.info(spec.name)).config.storage).toBe("file");
  });
});
