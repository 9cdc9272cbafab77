import { generateKeyPairSync, sign } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { bitString, explicit, oid, seq, smallInt, x509 } from "@isthmus/pki";
import { waitFor } from "@isthmus/testing";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates } from "../src/adapters/schema.js";
import { createBootstrapToken, createCertificateSubject, type NatsCaReply } from "../src/index.js";
import { CaClient, type GrpcFailure, type MeshCa, makeRoot, startMeshCa, workload } from "./harness.js";

let m: MeshCa;
beforeAll(async () => {
  m = await startMeshCa(await makeRoot());
});
afterAll(() => m.stop());

const issuedCount = async () => (await m.ca.store.db.select({ n: count() }).from(certificates))[0]?.n ?? 0;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: grpc.status.OK, details: "succeeded" }) as GrpcFailure,
    (e: GrpcFailure) => e,
  );

describe("CreateCertificate (Istio wire protocol)", () => {
  it("issues for the identity the token proves, never the one the CSR asks for", async () => {
    const token = m.api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x" });
    const w = workload("ec-p256", ["spiffe://cluster.local/ns/kube-system/sa/admin"]);
    const chain = await m.client.create({ csr: w.csrPem, token, clusterId: "cluster-1" });
    expect(chain).toHaveLength(3); // leaf, intermediate, root
    const [leaf, inter, root] = chain.map((p) => x509(p));
    expect(leaf?.subjectAltName).toBe("URI:spiffe://cluster.local/ns/a/sa/x");
    expect(leaf?.checkPrivateKey(w.key)).toBe(true);
    expect(leaf?.verify(inter!.publicKey)).toBe(true);
    expect(root?.checkIssued(root)).toBe(true); // self-signed root last
    const ttl = new Date(leaf!.validTo).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(23.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it("records every certificate in the ledger and announces it without key material", async () => {
    const token = m.api.issueServiceAccountToken({ namespace: "ledger", serviceAccount: "svc" });
    const before = await issuedCount();
    const [leafPem] = await m.client.create({ csr: workload().csrPem, token, clusterId: "cluster-1" });
    expect(await issuedCount()).toBe(before + 1);
    const serial = x509(leafPem!).serialNumber.toLowerCase();
    const bus = m.ca.bus!;
    await waitFor(
      async () =>
        (await bus.jsm.streams.getMessage(`CA_${m.mesh}`, { last_by_subj: `mesh.${m.mesh}.ca.certificate.issued.${serial}` }).catch(() => null)) !== null,
      10_000,
      "CertificateIssued event",
    );
    const msg = await bus.jsm.streams.getMessage(`CA_${m.mesh}`, { last_by_subj: `mesh.${m.mesh}.ca.certificate.issued.${serial}` });
    const ev = msg!.json<{ type: string; data: Record<string, unknown> }>();
    expect(ev.type).toBe("io.isthmus.ca.certificate_issued.v1");
    expect(ev.data).toMatchObject({ serial, spiffeId: "spiffe://cluster.local/ns/ledger/sa/svc", requester: "k8s:cluster-1", cluster: "cluster-1" });
    expect(JSON.stringify(ev)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it("publishes the trust bundle on its last-value subject", async () => {
    const bus = m.ca.bus!;
    await waitFor(
      async () =>
        (await bus.jsm.streams.getMessage(`CA_${m.mesh}`, { last_by_subj: `mesh.${m.mesh}.ca.trust-bundle.cluster%2Elocal` }).catch(() => null)) !== null,
      10_000,
      "TrustBundleUpdated",
    );
    const msg = await bus.jsm.streams.getMessage(`CA_${m.mesh}`, { last_by_subj: `mesh.${m.mesh}.ca.trust-bundle.cluster%2Elocal` });
    expect(msg!.json<{ data: { roots: string[] } }>().data.roots).toEqual(await m.ca.bundle());
  });
});

describe("bad input: a specific status, nothing issued, still serving", () => {
  const token = () => m.api.issueServiceAccountToken({ namespace: "bad", serviceAccount: "input" });
  const cases: Array<[string, () => Promise<GrpcFailure>, grpc.status, RegExp]> = [
    [
      "garbage CSR",
      () => failure(m.client.create({ csr: "hello, I am not a CSR", token: token(), clusterId: "cluster-1" })),
      grpc.status.INVALID_ARGUMENT,
      /CERTIFICATE REQUEST/,
    ],
    [
      "malformed DER inside the PEM",
      () =>
        failure(
          m.client.create({
            csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAgMEBQ==\n-----END CERTIFICATE REQUEST-----\n",
            token: token(),
            clusterId: "cluster-1",
          }),
        ),
      grpc.status.INVALID_ARGUMENT,
      /not valid DER|cannot be parsed/,
    ],
    [
      "signature that does not verify",
      () => {
        const w = workload();
        const der = Buffer.from(w.csrPem.split("\n").slice(1, -2).join(""), "base64");
        der[der.length - 5] = (der[der.length - 5] as number) ^ 0x55;
        const csr = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
        return failure(m.client.create({ csr, token: token(), clusterId: "cluster-1" }));
      },
      grpc.status.INVALID_ARGUMENT,
      /signature|not valid DER/,
    ],
    [
      "weak key (RSA 1024)",
      () => {
        const k = generateKeyPairSync("rsa", { modulusLength: 1024 });
        const info = seq(smallInt(0), seq(), k.publicKey.export({ type: "spki", format: "der" }), explicit(0));
        const der = seq(info, seq(oid("1.2.840.113549.1.1.11"), Buffer.from([5, 0])), bitString(sign("sha256", info, k.privateKey)));
        return failure(
          m.client.create({
            csr: `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`,
            token: token(),
            clusterId: "cluster-1",
          }),
        );
      },
      grpc.status.INVALID_ARGUMENT,
      /1024 bits is too weak/,
    ],
    [
      "unsupported algorithm (Ed25519)",
      () => {
        const k = generateKeyPairSync("ed25519");
        const info = seq(smallInt(0), seq(), k.publicKey.export({ type: "spki", format: "der" }), explicit(0));
        const der = seq(info, seq(oid("1.3.101.112")), bitString(sign(null, info, k.privateKey)));
        return failure(
          m.client.create({
            csr: `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`,
            token: token(),
            clusterId: "cluster-1",
          }),
        );
      },
      grpc.status.INVALID_ARGUMENT,
      /Ed25519 keys are not supported/,
    ],
    [
      "token for another audience",
      () =>
        failure(
          m.client.create({
            csr: workload().csrPem,
            token: m.api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x", audiences: ["vault"] }),
            clusterId: "cluster-1",
          }),
        ),
      grpc.status.UNAUTHENTICATED,
      /audiences/,
    ],
    [
      "expired token",
      () =>
        failure(
          m.client.create({
            csr: workload().csrPem,
            token: m.api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x", ttlSeconds: -10 }),
            clusterId: "cluster-1",
          }),
        ),
      grpc.status.UNAUTHENTICATED,
      /expired/,
    ],
    [
      "forged token",
      () => failure(m.client.create({ csr: workload().csrPem, token: "eyJhbGciOiJSUzI1NiJ9.forged.sig", clusterId: "cluster-1" })),
      grpc.status.UNAUTHENTICATED,
      /invalid bearer token/,
    ],
    ["no credentials at all", () => failure(m.client.create({ csr: workload().csrPem })), grpc.status.UNAUTHENTICATED, /no credentials/],
    [
      "unknown cluster",
      () => failure(m.client.create({ csr: workload().csrPem, token: token(), clusterId: "cluster-9" })),
      grpc.status.UNAUTHENTICATED,
      /unknown cluster/,
    ],
    [
      "validity above the maximum",
      () => failure(m.client.create({ csr: workload().csrPem, token: token(), clusterId: "cluster-1", validity_duration: 1000 * 3600 })),
      grpc.status.INVALID_ARGUMENT,
      /exceeds the maximum of 172800s/,
    ],
    [
      "oversize request",
      () =>
        failure(
          m.client.create({
            csr: `-----BEGIN CERTIFICATE REQUEST-----\n${"A".repeat(200_000)}\n-----END CERTIFICATE REQUEST-----\n`,
            token: token(),
            clusterId: "cluster-1",
          }),
        ),
      grpc.status.RESOURCE_EXHAUSTED,
      /larger than max|message larger/i,
    ],
  ];

  for (const [name, run, code, why] of cases) {
    it(name, async () => {
      const before = await issuedCount();
      const f = await run();
      expect(f.code).toBe(code);
      expect(f.details).toMatch(why);
      expect(await issuedCount()).toBe(before);
      // And the service keeps serving.
      const ok = await m.client.create({ csr: workload().csrPem, token: token(), clusterId: "cluster-1" });
      expect(ok).toHaveLength(3);
    });
  }
});

describe("other ways to prove an identity", () => {
  it("renews with the client certificate it issued, for the same identity only", async () => {
    const token = m.api.issueServiceAccountToken({ namespace: "renew", serviceAccount: "me" });
    const w = workload();
    const chain = await m.client.create({ csr: w.csrPem, token, clusterId: "cluster-1" });
    const roots = (await m.ca.bundle()).join("");
    const mtls = new CaClient(`localhost:${m.ca.grpcPort}`, roots, {
      key: w.key.export({ type: "pkcs8", format: "pem" }) as string,
      chain: chain.slice(0, 2).join(""),
    });
    const renewed = await mtls.create({ csr: workload("ec-p256", ["spiffe://cluster.local/ns/other/sa/x"]).csrPem });
    expect(x509(renewed[0]!).subjectAltName).toBe("URI:spiffe://cluster.local/ns/renew/sa/me");
    mtls.close();
  });

  it("refuses renewal with a revoked certificate and announces the revocation", async () => {
    const { revokeCertificate } = await import("../src/index.js");
    const w = workload();
    const chain = await m.client.create({
      csr: w.csrPem,
      token: m.api.issueServiceAccountToken({ namespace: "revoke", serviceAccount: "me" }),
      clusterId: "cluster-1",
    });
    const serial = x509(chain[0]!).serialNumber.toLowerCase();
    const roots = (await m.ca.bundle()).join("");
    const asWorkload = () =>
      new CaClient(`localhost:${m.ca.grpcPort}`, roots, { key: w.key.export({ type: "pkcs8", format: "pem" }) as string, chain: chain.slice(0, 2).join("") });
    const before = asWorkload();
    expect(await before.create({ csr: workload().csrPem })).toHaveLength(3);
    before.close();
    expect(await revokeCertificate(m.ca.store, m.mesh, serial, "key compromise")).toBe(true);
    expect(await revokeCertificate(m.ca.store, m.mesh, serial, "again")).toBe(false);
    const after = asWorkload();
    const f = await failure(after.create({ csr: workload().csrPem }));
    after.close();
    expect(f).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/revoked/) });
    const subject = `mesh.${m.mesh}.ca.certificate.revoked.${serial}`;
    await waitFor(
      async () => (await m.ca.bus!.jsm.streams.getMessage(`CA_${m.mesh}`, { last_by_subj: subject }).catch(() => null)) !== null,
      10_000,
      "CertificateRevoked",
    );
  });

  it("refuses a client certificate from another mesh's root", async () => {
    const other = await startMeshCa(await makeRoot(), { bus: false });
    try {
      const w = workload();
      const foreign = await other.client.create({
        csr: w.csrPem,
        token: other.api.issueServiceAccountToken({ namespace: "x", serviceAccount: "y" }),
        clusterId: "cluster-1",
      });
      // Trust both roots at the TLS layer so the handshake completes and the CA itself decides.
      const c = new CaClient(`localhost:${m.ca.grpcPort}`, (await m.ca.bundle()).join(""), {
        key: w.key.export({ type: "pkcs8", format: "pem" }) as string,
        chain: foreign.slice(0, 2).join(""),
      });
      const f = await failure(c.create({ csr: workload().csrPem }));
      // TLS asks for certificates of this mesh's roots; the foreign one proves nothing.
      expect(f.code).toBe(grpc.status.UNAUTHENTICATED);
      c.close();
    } finally {
      await other.stop();
    }
  });

  it("accepts a bootstrap token for its one ns/sa until it expires", async () => {
    const t = await createBootstrapToken(m.ca.store, { namespace: "vm", serviceAccount: "legacy", ttlMs: 60_000 });
    const chain = await m.client.create({ csr: workload().csrPem, token: t });
    expect(x509(chain[0]!).subjectAltName).toBe("URI:spiffe://cluster.local/ns/vm/sa/legacy");
    const expired = await createBootstrapToken(m.ca.store, { namespace: "vm", serviceAccount: "legacy", ttlMs: -1 });
    expect((await failure(m.client.create({ csr: workload().csrPem, token: expired }))).details).toMatch(/expired/);
    const [, id] = t.split(".");
    expect((await failure(m.client.create({ csr: workload().csrPem, token: `isthmus-bt.${id}.wrong-secret` }))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("answers the same operation over NATS request/reply", async () => {
    const nc = m.ca.bus!.nc;
    const { headers } = await import("@nats-io/transport-node");
    const h = headers();
    h.set("authorization", `Bearer ${m.api.issueServiceAccountToken({ namespace: "nats", serviceAccount: "client" })}`);
    h.set("clusterid", "cluster-1");
    const reply = await nc.request(createCertificateSubject(m.mesh), JSON.stringify({ csr: workload().csrPem }), { headers: h, timeout: 5_000 });
    const body = reply.json<NatsCaReply>();
    if (!("certChain" in body)) throw new Error(JSON.stringify(body));
    expect(x509(body.certChain[0]!).subjectAltName).toBe("URI:spiffe://cluster.local/ns/nats/sa/client");
    const bad = (await nc.request(createCertificateSubject(m.mesh), "{nope", { timeout: 5_000 })).json<NatsCaReply>();
    expect(bad).toMatchObject({ error: { status: "INVALID_ARGUMENT" } });
  });
});
