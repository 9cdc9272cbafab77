import { awaitMeshStreams, Bus, meshStreamSpecs, type NatsUser, natsAuthorization, SERVICE_USERS } from "@isthmus/bus";
import { NatsServer, uniqueMeshId } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIsthmus } from "./run-cli.js";

// Streams exist because the operator provisioned them: a service's own credentials may not
// create them, so it says what to run and waits; `isthmus nats provision` (the chart's Job,
// compose's one-shot) creates them and the service carries on.
let nats: NatsServer;
const mesh = uniqueMeshId("prov");
const users: Array<NatsUser & { password: string }> = SERVICE_USERS.map((user) => ({ user, password: `pw-${Math.random().toString(36).slice(2)}` }));
const pw = (user: string) => users.find((u) => u.user === user)?.password ?? "";

beforeAll(async () => {
  nats = await NatsServer.start({ config: natsAuthorization(users, mesh) });
});
afterAll(() => nats?.dispose());

const run = (args: string[], user: string) => runIsthmus(args, { env: { ...process.env, NATS_URL: nats.url, NATS_USER: user, NATS_PASSWORD: pw(user) } });

describe("isthmus nats provision", () => {
  it("a service waits, saying what to run, until the operator provisions its streams", async () => {
    const svc = await Bus.connect({ servers: nats.url, user: "discovery", password: pw("discovery"), waitOnFirstConnect: false });
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (_o: object, m?: string) => warnings.push(m ?? "") };
    let ready = false;
    const waiting = awaitMeshStreams(svc.jsm, mesh, { log, retryMs: 100 }).then(() => {
      ready = true;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(ready).toBe(false);
    expect(warnings[0]).toContain(`isthmus nats provision --mesh ${mesh}`);

    // With a service's credentials the command is refused and creates nothing.
    const denied = await run(["nats", "provision", "--mesh", mesh], "config-push");
    expect(denied.code).not.toBe(0);
    expect(ready).toBe(false);

    const r = await run(["nats", "provision", "--mesh", mesh], "isthmus-cli");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const s of meshStreamSpecs(mesh)) expect(r.stdout).toContain(`${s.name}: created`);
    await waiting;
    expect(ready).toBe(true);
    // Idempotent.
    const again = await run(["nats", "provision", "--mesh", mesh], "isthmus-cli");
    expect(again.stdout).toContain(": unchanged");
    await svc.close();
  });
});
