import type { X509Certificate } from "node:crypto";
import { awaitMeshStreams, Bus, type BusConnectOptions, type BusLogger, Publisher, silentLogger } from "@isthmus/bus";
import { type ClusterAccess, kubeConfigFor } from "@isthmus/k8s";
import { generateKey, spkiDer, x509 } from "@isthmus/pki";
import { OutboxRelay, type Store } from "@isthmus/store";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Subscription } from "@nats-io/transport-node";
import { Authenticator } from "./adapters/authenticator.js";
import { allIssuerCerts, CA_CHANGED_CHANNEL, currentVersion, loadActiveIssuer, openCaStore, trustBundle } from "./adapters/ca-store.js";
import { CryptoPool } from "./adapters/crypto-pool.js";
import { startGrpcServer } from "./adapters/grpc-server.js";
import type { KeyProvider } from "./adapters/key-provider.js";
import { Ledger } from "./adapters/ledger.js";
import { startNatsResponder } from "./adapters/nats-responder.js";
import { outbox } from "./adapters/schema.js";
import { TlsMaterial } from "./adapters/tls-material.js";
import { importPluginCa } from "./admin.js";
import { DEFAULT_VALIDITY, type ValidityPolicy } from "./domain/validity.js";
import { CertificateIssuer } from "./issuer.js";

export interface CaConfig {
  mesh: string;
  trustDomain: string;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  keys: KeyProvider;
  grpcHost: string;
  grpcPort: number;
  /** Serve gRPC over TLS with a serving certificate from this CA (needed for client-certificate renewal). */
  grpcTls: boolean;
  /** DNS names for the serving certificate. */
  serverNames: string[];
  bus?: BusConnectOptions | undefined;
  validity?: ValidityPolicy;
  audiences: string[];
  clusters: Array<{ id: string; access: ClusterAccess }>;
  defaultCluster?: string | undefined;
  /** Import Istio plug-in CA files from here when the mesh has no issuer yet. */
  pluginDir?: string | undefined;
  log?: BusLogger;
}

export interface RunningCa {
  grpcPort: number;
  issuer: CertificateIssuer;
  store: Store;
  bus: Bus | undefined;
  /** PEM roots of the trust bundle. */
  bundle(): Promise<string[]>;
  /** Re-read the issuer and bundle now (normally driven by NOTIFY and a poll). */
  reload(): Promise<void>;
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Wire the certificate authority: store, issuer, authenticator, gRPC, NATS, relay. */
export async function startCertAuthority(c: CaConfig): Promise<RunningCa> {
  const log = c.log ?? silentLogger;
  const store = await openCaStore(c.databaseUrl, c.dataDir);
  if (!(await loadActiveIssuer(store, c.mesh, c.keys))) {
    if (!c.pluginDir) {
      await store.close();
      throw new Error(
        `mesh ${c.mesh} has no issuing certificate: run \`isthmus ca create-intermediate --mesh ${c.mesh}\` or set CA_PLUGIN_DIR to Istio plug-in CA files`,
      );
    }
    await importPluginCa({ dir: c.pluginDir, mesh: c.mesh, trustDomain: c.trustDomain, store, meshKeys: c.keys });
  }

  const ledger = new Ledger(store, c.mesh);
  const crypto = new CryptoPool();
  const validity = c.validity ?? DEFAULT_VALIDITY;
  const issuer = new CertificateIssuer(c.trustDomain, validity, ledger, crypto);
  let issuerCerts: X509Certificate[] = [];
  let tls: TlsMaterial | undefined;
  let version = -1;
  const reload = async () => {
    const v = await currentVersion(store);
    if (v === version) return;
    const active = await loadActiveIssuer(store, c.mesh, c.keys);
    if (active && active.serial !== issuer.issuerSerial) {
      issuer.use(active);
      log.info({ serial: active.serial }, "issuing certificate loaded");
      if (tls) {
        const serving = await servingIdentity();
        tls.setIdentity(serving.certificate, serving.privateKey);
      }
    }
    issuerCerts = (await allIssuerCerts(store, c.mesh)).map((d) => x509(d));
    tls?.setRoots((await trustBundle(store.db)).join(""));
    version = v;
  };
  // The CA's own serving certificate, from the active issuer; its key is made here and never leaves.
  const servingIdentity = async () => {
    const k = generateKey("ec-p256");
    const chain = await issuer.issueServing(spkiDer(k.publicKey), {
      uri: `spiffe://${c.trustDomain}/ns/isthmus-system/sa/cert-authority`,
      dnsNames: c.serverNames,
      ips: ["127.0.0.1"],
      ttlMs: 30 * 86_400_000,
    });
    return { certificate: chain.slice(0, -1).join(""), privateKey: k.privateKey.export({ type: "pkcs8", format: "pem" }) as string };
  };
  await reload();
  const unlisten = await store.listen(CA_CHANGED_CHANNEL, () => void reload().catch((err) => log.warn({ err }, "reload failed")));
  const poll = setInterval(() => void reload().catch(() => {}), 5_000);
  poll.unref();

  const clusters = new Map<string, KubeConfig>(c.clusters.map((cl) => [cl.id, kubeConfigFor(cl.access)]));
  const auth = new Authenticator({
    trustDomain: c.trustDomain,
    audiences: c.audiences,
    clusters,
    defaultCluster: c.defaultCluster ?? (c.clusters.length === 1 ? c.clusters[0]?.id : undefined),
    store,
    issuers: () => issuerCerts,
    backdateMs: validity.backdateMs,
    defaultTtlMs: validity.defaultTtlMs,
  });

  if (c.grpcTls) {
    const serving = await servingIdentity();
    tls = new TlsMaterial(Buffer.from((await trustBundle(store.db)).join("")), {
      certificate: Buffer.from(serving.certificate),
      privateKey: Buffer.from(serving.privateKey),
    });
  }
  const grpcServer = await startGrpcServer({ issuer, auth, host: c.grpcHost, port: c.grpcPort, tls, log }).catch(async (err: unknown) => {
    // Nothing of a CA that could not listen stays behind: its threads, its poll, its pool.
    clearInterval(poll);
    await unlisten().catch(() => {});
    await crypto.close();
    await store.close();
    throw err;
  });

  let bus: Bus | undefined;
  let relay: OutboxRelay | undefined;
  let responder: Subscription | undefined;
  if (c.bus) {
    bus = await Bus.connect(c.bus);
    await awaitMeshStreams(bus.jsm, c.mesh, { log, replicas: bus.streamReplicas });
    relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { log });
    await relay.start();
    responder = startNatsResponder({ nc: bus.nc, mesh: c.mesh, issuer, auth, log });
  }

  return {
    grpcPort: grpcServer.port,
    issuer,
    store,
    bus,
    bundle: () => trustBundle(store.db),
    reload,
    async ready() {
      return (await store.ping()) && (bus ? await bus.jetStreamReady() : true) && issuer.issuerSerial !== undefined;
    },
    async stop() {
      clearInterval(poll);
      await grpcServer.stop();
      responder?.unsubscribe();
      await relay?.stop();
      await bus?.close();
      await unlisten().catch(() => {});
      await crypto.close();
      await store.close();
    },
  };
}
