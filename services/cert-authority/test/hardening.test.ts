import * as grpc from "@grpc/grpc-js";
import { createCsr, generateKey, toPem, x509 } from "@isthmus/pki";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBootstrapToken, createCertificateSubject, type NatsCaReply } from "../src/index.js";
import { CaClient, type GrpcFailure, type MeshCa, makeRoot, startMeshCa, workload } from "./harness.js";

// The CA findings of the hardening pass (issue 19): single-use bootstrap tokens, renewals
// that never outlive what they renew, PEM that is not base64, and a fuzz of the CSR surface.

let m: MeshCa;
beforeAll(async () => {
  m = await startMeshCa(await makeRoot(), { bus: false });
});
afterAll(() => m.stop());

const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: grpc.status.OK, details: "succeeded" }) as GrpcFailure,
    (e: GrpcFailure) => e,
  );
const lifetimeS = (pem: string) => (new Date(x509(pem).validTo).getTime() - Date.now()) / 1000;

describe("bootstrap tokens", () => {
  it("obtain one certificate: a second use is refused", async () => {
    const t = await createBootstrapToken(m.ca.store, { namespace: "vm", serviceAccount: "once", ttlMs: 60_000 });
    expect(await m.client.create({ csr: workload().csrPem, token: t })).toHaveLength(3);
    const again = await failure(m.client.create({ csr: workload().csrPem, token: t }));
    expect(again).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/already been used/) });
  });

  it("of many requests racing with one token, exactly one is served", async () => {
    const t = await createBootstrapToken(m.ca.store, { namespace: "vm", serviceAccount: "race", ttlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 12 }, () => failure(m.client.create({ csr: workload().csrPem, token: t }))));
    expect(results.filter((r) => r.code === grpc.status.OK)).toHaveLength(1);
    expect(results.filter((r) => r.code === grpc.status.UNAUTHENTICATED)).toHaveLength(11);
  });

  it("are not used up by a request that issues nothing", async () => {
    const t = await createBootstrapToken(m.ca.store, { namespace: "vm", serviceAccount: "typo", ttlMs: 60_000 });
    expect((await failure(m.client.create({ csr: "not a CSR", token: t }))).code).toBe(grpc.status.INVALID_ARGUMENT);
    const chain = await m.client.create({ csr: workload().csrPem, token: t });
    expect(x509(chain[0]!).subjectAltName).toBe("URI:spiffe://cluster.local/ns/vm/sa/typo");
  });
});

describe("renewal with a client certificate", () => {
  const renewer = async (validity: number) => {
    const w = workload();
    const token = m.api.issueServiceAccountToken({ namespace: "renew", serviceAccount: `ttl-${validity}` });
    const chain = await m.client.create({ csr: w.csrPem, token, clusterId: "cluster-1", validity_duration: validity });
    const roots = (await m.ca.bundle()).join("");
    return new CaClient(`localhost:${m.ca.grpcPort}`, roots, {
      key: w.key.export({ type: "pkcs8", format: "pem" }) as string,
      chain: chain.slice(0, 2).join(""),
    });
  };

  it("keeps the presented certificate's lifetime when asked for the default", async () => {
    const c = await renewer(300);
    const renewed = await c.create({ csr: workload().csrPem });
    c.close();
    expect(lifetimeS(renewed[0]!)).toBeLessThanOrEqual(300);
    expect(lifetimeS(renewed[0]!)).toBeGreaterThan(290);
  });

  it("refuses a longer lifetime than the certificate presented, and serves a shorter one", async () => {
    const c = await renewer(300);
    const longer = await failure(c.create({ csr: workload().csrPem, validity_duration: 86_400 }));
    expect(longer).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/cannot outlive the certificate presented.*300s/) });
    const shorter = await c.create({ csr: workload().csrPem, validity_duration: 120 });
    c.close();
    expect(lifetimeS(shorter[0]!)).toBeLessThanOrEqual(120);
  });

  it("never past the mesh's maximum either", async () => {
    const c = await renewer(0); // the default, 24 h
    const f = await failure(c.create({ csr: workload().csrPem, validity_duration: 90 * 86_400 }));
    c.close();
    expect(f).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/maximum/) });
  });
});

describe("the CSR surface", () => {
  const token = () => m.api.issueServiceAccountToken({ namespace: "fuzz", serviceAccount: "client" });

  it("answers INVALID_ARGUMENT with a reason for a PEM block whose body is not base64", async () => {
    const csr = "-----BEGIN CERTIFICATE REQUEST-----\nthis*is*not!base64\n-----END CERTIFICATE REQUEST-----\n";
    const f = await failure(m.client.create({ csr, token: token(), clusterId: "cluster-1" }));
    expect(f).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/not base64/) });
  });

  it("answers random and mutated CSRs with a clean status, then serves a good client", async () => {
    const good = createCsr(generateKey("ec-p256").privateKey);
    const pem = (der: Uint8Array) => toPem(der, "CERTIFICATE REQUEST");
    const mutated = fc
      .tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.constantFrom("flip", "cut", "insert"))
      .map(([at, byte, how]) => {
        if (how === "cut") return pem(good.subarray(0, at));
        if (how === "insert") return pem(Buffer.concat([good.subarray(0, at), Buffer.from([byte]), good.subarray(at)]));
        const b = Buffer.from(good);
        b[at] = (b[at] as number) ^ byte;
        return pem(b);
      });
    const csr = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 600 }).map(pem),
      mutated,
      fc.string({ unit: "binary", maxLength: 400 }).map((body) => `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`),
    );
    const validity = fc.oneof(fc.constant(0), fc.integer({ min: -1_000, max: 2_000_000_000 }));
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(csr, validity, async (c, v) => {
        const f = await failure(m.client.create({ csr: c, token: token(), clusterId: "cluster-1", validity_duration: v }));
        seen.set(f.code, (seen.get(f.code) ?? 0) + 1);
        expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED]).toContain(f.code);
        expect(f.details).not.toMatch(/^internal error$/);
        expect(f.details.length).toBeGreaterThan(0);
      }),
      { seed: 20_19, numRuns: 200 },
    );
    expect(seen.get(grpc.status.INVALID_ARGUMENT)).toBeGreaterThan(100);
    expect(await m.client.create({ csr: workload().csrPem, token: token(), clusterId: "cluster-1" })).toHaveLength(3);
  });
});

describe("the NATS request/reply surface", () => {
  let n: MeshCa;
  beforeAll(async () => {
    n = await startMeshCa(await makeRoot());
  });
  afterAll(() => n.stop());

  it("answers random bodies and headers with a clean error, then serves a good client", async () => {
    const { headers } = await import("@nats-io/transport-node");
    const nc = n.ca.bus!.nc;
    const subject = createCertificateSubject(n.mesh);
    const token = () => n.api.issueServiceAccountToken({ namespace: "fuzz", serviceAccount: "nats" });
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 3 }),
      fc
        .record({ csr: fc.oneof(fc.string({ maxLength: 200 }), fc.integer()), validityDuration: fc.oneof(fc.integer(), fc.double(), fc.string()) })
        .map((r) => JSON.stringify(r)),
    );
    const auth = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 }), fc.constant("valid"));
    await fc.assert(
      fc.asyncProperty(body, auth, async (b, a) => {
        const h = headers();
        if (a !== undefined) h.set("authorization", a === "valid" ? `Bearer ${token()}` : a.replace(/[\r\n]/g, ""));
        h.set("clusterid", "cluster-1");
        const reply = (await nc.request(subject, b, { headers: h, timeout: 5_000 })).json<NatsCaReply>();
        expect("error" in reply).toBe(true);
        if ("error" in reply) {
          expect(["INVALID_ARGUMENT", "UNAUTHENTICATED"]).toContain(reply.error.status);
          expect(reply.error.message.length).toBeGreaterThan(0);
        }
      }),
      { seed: 20_19, numRuns: 120 },
    );
    const h = headers();
    h.set("authorization", `Bearer ${token()}`);
    h.set("clusterid", "cluster-1");
    const ok = (await nc.request(subject, JSON.stringify({ csr: workload().csrPem }), { headers: h, timeout: 5_000 })).json<NatsCaReply>();
    expect("certChain" in ok).toBe(true);
  });
});
