import { request } from "node:https";
import { Bus, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { buildEvent, serviceStateV1, streamName } from "@isthmus/events";
import { startTelemetry } from "@isthmus/telemetry";
import { NatsServer, type TlsFiles, testTlsFiles, uniqueMeshId } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The listeners besides xDS and the CA's gRPC (tested with their services) over TLS, with the
// files the Helm chart's `tls.enabled` mounts (tls.crt, tls.key, ca.crt): NATS, and the health
// / metrics / debug endpoints. The services' side is their env: NATS_TLS_CA, HEALTH_TLS_CERT/KEY.
let files: TlsFiles;
let nats: NatsServer;

beforeAll(async () => {
  files = await testTlsFiles("spiffe://cluster.local/ns/isthmus-system/sa/nats");
  nats = await NatsServer.start({ config: `tls { cert_file: ${JSON.stringify(files.cert)}, key_file: ${JSON.stringify(files.key)} }` });
});
afterAll(async () => {
  await nats.dispose();
});

describe("TLS on NATS and the health endpoints", () => {
  it("a service connects to NATS over TLS with the mesh's CA file and publishes; a client that does not trust it is refused", async () => {
    const bus = await Bus.connect({ servers: nats.url, tls: { caFile: files.ca }, waitOnFirstConnect: false });
    const mesh = uniqueMeshId("tls");
    await provisionMeshStreams(bus.jsm, mesh);
    const e = buildEvent(
      serviceStateV1,
      mesh,
      { cluster: "c1", namespace: "default", name: "a", hostname: "a.default.svc.cluster.local", ports: [], endpoints: [], stale: false },
      { source: "test" },
    );
    await expect(new Publisher(bus.js).publish(e.subject, e.event)).resolves.toMatchObject({ stream: streamName(mesh, "discovery") });
    await bus.close();
    // Trusting the system roots only: the handshake fails.
    await expect(Bus.connect({ servers: nats.url, tls: {}, waitOnFirstConnect: false })).rejects.toThrow();
  });

  it("serves /readyz over TLS when HEALTH_TLS_CERT and HEALTH_TLS_KEY name the mounted certificate", async () => {
    process.env.HEALTH_TLS_CERT = files.cert;
    process.env.HEALTH_TLS_KEY = files.key;
    const tel = await startTelemetry({ serviceName: "tls-test", logLevel: "silent" });
    delete process.env.HEALTH_TLS_CERT;
    delete process.env.HEALTH_TLS_KEY;
    tel.health.addCheck("nats", () => true);
    const port = Number(new URL(tel.health.url).port);
    const get = (ca?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/readyz", ...(ca ? { ca } : {}) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    const { readFileSync } = await import("node:fs");
    expect(await get(readFileSync(files.ca, "utf8"))).toBe(200);
    await expect(get()).rejects.toThrow(/certificate/);
    await tel.shutdown();
  });
});
