import { buildEvent, configResourceV1 } from "@isthmus/events";
import { NatsServer, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { createUser } from "@nats-io/nkeys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, busOptionsFromEnv, meshStreamSpecs, Publisher, provisionMeshStreams } from "../src/index.js";

const nkeyUser = createUser();
const seed = new TextDecoder().decode(nkeyUser.getSeed());
let nats: NatsServer;

beforeAll(async () => {
  nats = await NatsServer.start({
    config: `authorization {
      users = [
        { user: "discovery", password: "s3cret" }
        { nkey: "${nkeyUser.getPublicKey()}" }
      ]
    }`,
  });
});
afterAll(async () => {
  await nats.dispose();
});

async function tryConnect(extra: Record<string, string>): Promise<string> {
  try {
    const bus = await Bus.connect({ ...busOptionsFromEnv({ NATS_URL: nats.url, ...extra }), waitOnFirstConnect: false });
    await bus.close();
    return "ok";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("Bus.connect", () => {
  it("authenticates with user/password and with an nkey seed, and is refused otherwise", async () => {
    const asUser = await tryConnect({ NATS_USER: "discovery", NATS_PASSWORD: "s3cret" });
    const asNkey = await tryConnect({ NATS_NKEY_SEED: seed });
    const wrong = await tryConnect({ NATS_USER: "discovery", NATS_PASSWORD: "nope" });
    const anonymous = await tryConnect({});
    expect(asUser).toBe("ok");
    expect(asNkey).toBe("ok");
    for (const refused of [wrong, anonymous]) expect(refused).toMatch(/Authorization Violation/i);
  });

  it("authenticates with a token", async () => {
    const tokenServer = await NatsServer.start({ config: `authorization { token: "t0ken" }` });
    try {
      const bus = await Bus.connect({ ...busOptionsFromEnv({ NATS_URL: tokenServer.url, NATS_TOKEN: "t0ken" }), waitOnFirstConnect: false });
      expect(bus.connected).toBe(true);
      await bus.close();
      await expect(Bus.connect({ ...busOptionsFromEnv({ NATS_URL: tokenServer.url, NATS_TOKEN: "bad" }), waitOnFirstConnect: false })).rejects.toThrow(
        /Authorization Violation/i,
      );
    } finally {
      await tokenServer.dispose();
    }
  });

  it("rides out a server restart: reconnects by itself and publishes again", async () => {
    const srv = await NatsServer.start();
    const mesh = uniqueMeshId("reconnect");
    try {
      const bus = await Bus.connect({ servers: srv.url, maxReconnectDelayMs: 200 });
      await provisionMeshStreams(bus.jsm, mesh);
      await srv.kill();
      expect(await new Promise((r) => setTimeout(() => r(bus.connected), 200))).toBe(false);
      await srv.start();
      const end = Date.now() + 10_000;
      while (!bus.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const e = buildEvent(configResourceV1, mesh, { apiVersion: "v1", kind: "Sidecar", namespace: "n", name: "s", labels: {}, spec: {} }, { source: "t" });
      const ack = await new Publisher(bus.js).publish(e.subject, e.event);
      expect(ack.seq).toBeGreaterThan(0);
      await bus.close();
    } finally {
      await srv.dispose();
    }
  });
});

describe("Publisher", () => {
  it("enforces expected-last-subject-sequence and drops a repeated msg id", async () => {
    const mesh = uniqueMeshId("expect");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    await provisionMeshStreams(bus.jsm, mesh);
    const pub = new Publisher(bus.js);
    const mk = (v: number) =>
      buildEvent(configResourceV1, mesh, { apiVersion: "v1", kind: "Sidecar", namespace: "n", name: "s", labels: {}, spec: { v } }, { source: "t" });
    const first = await pub.publish(mk(1).subject, mk(1).event, { expectLastSubjectSequence: 0 });
    const e2 = mk(2);
    const second = await pub.publish(e2.subject, e2.event, { expectLastSubjectSequence: first.seq });
    expect(second.seq).toBeGreaterThan(first.seq);
    // A writer that read an old version loses the race, with a reason.
    await expect(pub.publish(mk(3).subject, mk(3).event, { expectLastSubjectSequence: first.seq })).rejects.toThrow(/wrong last sequence/i);
    const again = await pub.publish(e2.subject, e2.event);
    expect(again.duplicate).toBe(true);
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
  });
});
