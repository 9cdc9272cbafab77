import { domainFilter, streamName } from "@isthmus/events";
import { NatsServer, uniqueMeshId } from "@isthmus/testing";
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Bus,
  durableNameFor,
  ensureDurable,
  inboxPrefixFor,
  type NatsUser,
  natsAuthorization,
  Publisher,
  provisionMeshStreams,
  SERVICE_USERS,
  StateReader,
} from "../src/index.js";
import { serviceState } from "./fixtures.js";

// The escalations a fuzzing pass found with a service's credentials (issue 19), each refused
// by the generated permissions on the real nats-server, with the state checked afterwards by
// the operator: refused must mean nothing changed, not merely an error.
let nats: NatsServer;
let admin: Bus;
const mesh = uniqueMeshId("esc");
const users: Array<NatsUser & { password: string }> = SERVICE_USERS.map((user) => ({ user, password: `pw-${user}-${Math.random().toString(36).slice(2)}` }));
const connect = (user: string) => {
  const u = users.find((x) => x.user === user) as NatsUser & { password: string };
  return Bus.connect({ servers: nats.url, waitOnFirstConnect: false, user, password: u.password, maxReconnectDelayMs: 200 });
};
// A refused request either fails at once (permissions violation) or never gets its answer.
const refused = /permission|timeout|authorization|heartbeats missed/i;

beforeAll(async () => {
  nats = await NatsServer.start({ config: natsAuthorization(users, mesh) });
  admin = await connect("isthmus-cli");
  await provisionMeshStreams(admin.jsm, mesh);
  // config-push's own durable on DISCOVERY, as the operator would provision it.
  await ensureDurable(admin.jsm, { mesh, domain: "discovery", durable: durableNameFor("config-push") });
});
afterAll(async () => {
  await admin?.close();
  await nats?.dispose();
});

const state = (name: string) => serviceState(mesh, name);

describe("a service's credentials stay inside its domain", () => {
  it("cannot update another domain's stream (CA_<mesh>)", async () => {
    const bus = await connect("discovery");
    const ca = streamName(mesh, "ca");
    const before = (await admin.jsm.streams.info(ca)).config;
    await expect(bus.jsm.streams.update(ca, { ...before, max_msgs_per_subject: 1, subjects: [...before.subjects, "mesh.x.>"] })).rejects.toThrow(refused);
    expect((await admin.jsm.streams.info(ca)).config.subjects).toEqual(before.subjects);
    expect((await admin.jsm.streams.info(ca)).config.max_msgs_per_subject).toBe(before.max_msgs_per_subject);
    await bus.close();
  });

  it.each([
    ["a VirtualService", `mesh.${mesh}.config.VirtualService.default.evil`],
    ["a trust bundle", `mesh.${mesh}.ca.trust-bundle.cluster%2Elocal`],
  ])("cannot create a stream that republishes into %s", async (_what, destination) => {
    const bus = await connect("discovery");
    await expect(
      bus.jsm.streams.add({
        name: "EVIL",
        subjects: [`mesh.${mesh}.discovery.evil.>`],
        storage: StorageType.Memory,
        retention: RetentionPolicy.Limits,
        republish: { src: ">", dest: destination },
      }),
    ).rejects.toThrow(refused);
    await expect(admin.jsm.streams.info("EVIL")).rejects.toThrow(/not found/i);
    await bus.close();
  });

  it("cannot capture the CA's RPC subjects: no stream over them, no subscription to them", async () => {
    const bus = await connect("discovery");
    await expect(bus.jsm.streams.add({ name: "RPC", subjects: [`isthmus.rpc.${mesh}.ca.>`], storage: StorageType.Memory })).rejects.toThrow(refused);
    await expect(admin.jsm.streams.info("RPC")).rejects.toThrow(/not found/i);
    const sub = bus.nc.subscribe(`isthmus.rpc.${mesh}.ca.>`);
    await expect(sub.closed).resolves.toBeInstanceOf(Error);
    await bus.close();

    // The CA itself may: its subscription stays open and answers once per request.
    const ca = await connect("cert-authority");
    const caSub = ca.nc.subscribe(`isthmus.rpc.${mesh}.ca.create_certificate`, {
      callback: (_e, m) => {
        m.respond("pong");
      },
    });
    await ca.nc.flush();
    expect((await admin.nc.request(`isthmus.rpc.${mesh}.ca.create_certificate`, "ping", { timeout: 2_000 })).string()).toBe("pong");
    caSub.unsubscribe();
    await ca.close();
  });

  it("cannot delete, pull from or re-create another service's durable consumer", async () => {
    const bus = await connect("discovery");
    const stream = streamName(mesh, "discovery");
    const theirs = durableNameFor("config-push");
    await expect(bus.jsm.consumers.delete(stream, theirs)).rejects.toThrow(refused);
    await expect(
      bus.jsm.consumers.add(stream, {
        durable_name: theirs,
        filter_subject: domainFilter(mesh, "discovery"),
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 1,
      }),
    ).rejects.toThrow(refused);
    await expect((await bus.js.consumers.get(stream, theirs)).next({ expires: 1_000 })).rejects.toThrow(refused);
    const info = await admin.jsm.consumers.info(stream, theirs);
    expect(info.config.max_ack_pending).not.toBe(1);
    expect(info.num_waiting).toBe(0);
    await bus.close();
  });

  it("may create only consumers filtered to what it reads, never unfiltered ones", async () => {
    const bus = await connect("discovery");
    // discovery reads DISCOVERY only: CONFIG and CA are not its to read.
    await expect(bus.js.consumers.get(streamName(mesh, "config"), { filter_subjects: domainFilter(mesh, "config") })).rejects.toThrow(refused);
    await expect(bus.jsm.consumers.add(streamName(mesh, "discovery"), { ack_policy: AckPolicy.None })).rejects.toThrow(refused);
    await expect(bus.jsm.consumers.add(streamName(mesh, "discovery"), { durable_name: "sneaky", ack_policy: AckPolicy.None })).rejects.toThrow(refused);
    // config-push reads the trust bundle, not the CA's other events.
    const cp = await connect("config-push");
    await expect(cp.js.consumers.get(streamName(mesh, "ca"), { filter_subjects: domainFilter(mesh, "ca") })).rejects.toThrow(refused);
    expect((await admin.jsm.consumers.list(streamName(mesh, "config")).next()).length).toBe(0);
    await cp.close();
    await bus.close();
  });

  it("reads through its own durable and ordered consumers, and publishes its own domain", async () => {
    const bus = await connect("config-push");
    const d = await connect("discovery");
    const s = state("reader");
    await new Publisher(d.js).publish(s.subject, s.event);
    const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery") });
    const seen: string[] = [];
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      seen.push(it.subject);
    }
    await reader.close();
    expect(seen).toContain(s.subject);
    await ensureDurable(bus.jsm, { mesh, domain: "discovery", durable: durableNameFor("config-push") });
    const m = await (await bus.js.consumers.get(streamName(mesh, "discovery"), durableNameFor("config-push"))).next({ expires: 2_000 });
    expect(m?.subject).toBeDefined();
    m?.ack();
    await bus.close();
    await d.close();
  });

  it("sees only its own replies: `_INBOX.>` is refused, its inbox prefix is its own", async () => {
    const bus = await connect("discovery");
    expect((bus.nc as unknown as { options: { inboxPrefix: string } }).options.inboxPrefix).toBe(inboxPrefixFor("discovery"));
    await expect(bus.nc.subscribe("_INBOX.>").closed).resolves.toBeInstanceOf(Error);
    await expect(bus.nc.subscribe(`${inboxPrefixFor("config-push")}.>`).closed).resolves.toBeInstanceOf(Error);
    // Its own requests still get their answers.
    await expect(bus.jsm.streams.info(streamName(mesh, "discovery"))).resolves.toBeDefined();
    await bus.close();
  });

  it("a push consumer cannot deliver into another domain's stream (limit: 2.9 permissions cannot refuse the deliver subject)", async () => {
    const bus = await connect("discovery");
    const s = state("evil");
    await new Publisher(bus.js).publish(s.subject, s.event);
    const before = (await admin.jsm.streams.info(streamName(mesh, "config"))).state.messages;
    // The filter is one discovery reads, so the server accepts the consumer; what it must not do is land in CONFIG.
    await bus.jsm.consumers
      .add(streamName(mesh, "discovery"), {
        name: "pushy",
        filter_subject: s.subject,
        deliver_subject: `mesh.${mesh}.config.VirtualService.default.evil`,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
      })
      .catch(() => {});
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await admin.jsm.streams.info(streamName(mesh, "config"))).state.messages).toBe(before);
    await bus.close();
  });
});
