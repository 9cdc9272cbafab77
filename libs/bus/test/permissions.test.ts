import { buildEvent, domainFilter, serviceStateV1, streamName, trustBundleUpdatedV1 } from "@isthmus/events";
import { NatsServer, uniqueMeshId } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type NatsUser, natsAuthorization, Publisher, provisionMeshStreams, SERVICE_USERS, StateReader } from "../src/index.js";

// Every service connects with its own credentials and may publish only its own domain.
let nats: NatsServer;
const mesh = uniqueMeshId("perm");
const users: Array<NatsUser & { password: string }> = SERVICE_USERS.map((user) => ({ user, password: `pw-${user}-${Math.random().toString(36).slice(2)}` }));
const creds = (user: string) => users.find((u) => u.user === user) as NatsUser & { password: string };
const connect = (user?: string) =>
  Bus.connect({ servers: nats.url, waitOnFirstConnect: false, ...(user ? { user, password: creds(user).password } : {}), maxReconnectDelayMs: 200 });

beforeAll(async () => {
  nats = await NatsServer.start({ config: natsAuthorization(users, mesh) });
  const admin = await connect("isthmus-cli");
  await provisionMeshStreams(admin.jsm, mesh);
  await admin.close();
});
afterAll(async () => {
  await nats.dispose();
});

const state = () =>
  buildEvent(
    serviceStateV1,
    mesh,
    { cluster: "c1", namespace: "default", name: "a", hostname: "a.default.svc.cluster.local", ports: [], endpoints: [], stale: false },
    { source: "test" },
  );
const bundle = () =>
  buildEvent(
    trustBundleUpdatedV1,
    mesh,
    { trustDomain: "cluster.local", roots: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"], version: 1 },
    { source: "test" },
  );

/** What a reader sees on the DISCOVERY stream up to its end. */
async function kindsOnDiscovery(bus: Bus): Promise<string[]> {
  const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery") });
  const seen: string[] = [];
  for await (const it of reader) {
    if (it.kind === "caught-up") break;
    seen.push(it.kind);
  }
  await reader.close();
  return seen;
}

describe("NATS authorization per service", () => {
  it("discovery publishes discovery events, and cannot publish a CA event", async () => {
    const bus = await connect("discovery");
    const pub = new Publisher(bus.js);
    const ok = state();
    await expect(pub.publish(ok.subject, ok.event)).resolves.toMatchObject({ stream: streamName(mesh, "discovery") });
    const forged = bundle();
    await expect(pub.publish(forged.subject, forged.event, { timeoutMs: 2_000 })).rejects.toThrow(/permission|timeout|no responders/i);
    await bus.close();

    // Nothing reached the CA stream; the cert-authority's own credentials can publish there.
    const admin = await connect("isthmus-cli");
    expect((await admin.jsm.streams.info(streamName(mesh, "ca"))).state.messages).toBe(0);
    await admin.close();
    const ca = await connect("cert-authority");
    const real = bundle();
    await expect(new Publisher(ca.js).publish(real.subject, real.event)).resolves.toMatchObject({ stream: streamName(mesh, "ca") });
    await ca.close();
  });

  it("a service reads the mesh's streams with its own credentials, but may not delete them", async () => {
    const bus = await connect("config-push");
    expect(await kindsOnDiscovery(bus)).toEqual(["state"]);
    await expect(bus.jsm.streams.delete(streamName(mesh, "discovery"))).rejects.toThrow();
    await bus.close();
  });

  it("the web console reads the mesh's streams with its own user, and can publish no event, not even a dead letter", async () => {
    const bus = await connect("console");
    expect(await kindsOnDiscovery(bus)).toEqual(["state"]);
    const pub = new Publisher(bus.js);
    const forged = state();
    await expect(pub.publish(forged.subject, forged.event, { timeoutMs: 2_000 })).rejects.toThrow(/permission|timeout|no responders/i);
    await expect(pub.publish(`mesh.${mesh}.dlq.x`, forged.event, { timeoutMs: 2_000 })).rejects.toThrow(/permission|timeout|no responders/i);
    await expect(bus.jsm.streams.delete(streamName(mesh, "discovery"))).rejects.toThrow();
    await bus.close();
  });

  it("refuses anonymous clients and wrong passwords", async () => {
    await expect(connect()).rejects.toThrow(/authorization/i);
    await expect(Bus.connect({ servers: nats.url, user: "discovery", password: "wrong", waitOnFirstConnect: false })).rejects.toThrow(/authorization/i);
  });
});
