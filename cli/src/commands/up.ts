import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  Bus,
  type BusConnectOptions,
  busOptionsFromEnv,
  type NatsUser,
  natsAuthorization,
  provisionMeshStreams,
  SERVICE_USERS,
  type ServiceUser,
} from "@isthmus/bus";
import {
  createIntermediate,
  initRoot,
  issueFromDevelopmentRoot,
  LocalKeyProvider,
  loadActiveIssuer,
  openCaStore,
  startCertAuthority,
} from "@isthmus/cert-authority";
import { StreamConfigStore } from "@isthmus/config";
import { startConfigPush } from "@isthmus/config-push";
import { openDiscoveryStore, startDiscovery, upsertCluster } from "@isthmus/discovery";
import { assertMeshId } from "@isthmus/events";
import { startTelemetry } from "@isthmus/telemetry";
import { findNatsServer, hostPort, NatsCluster, NatsServer, tcpReachable } from "@isthmus/testing";
import { grpcBootstrap } from "@isthmus/xds";
import { ConfigDirSource } from "../config/dir-source.js";
import { GreeterClient, helloworldManifest, helloworldServer, sayHello } from "../demo/helloworld.js";
import { StackStopper } from "./stack-stopper.js";

export interface UpOptions {
  mesh: string;
  healthPort: number;
  dir: string;
  demo: boolean;
  /** TLS on every listener: NATS, xDS, the CA's gRPC (always), health/metrics/debug. */
  tls?: boolean;
  /** Nodes of the stack's own NATS: 1, or a local cluster (3) with R3 streams. */
  natsCluster?: number;
  /** The watched config directory (default <dir>/config). */
  configDir?: string;
}

interface StackTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * --tls: a serving certificate for the stack (localhost, 127.0.0.1, the control plane's
 * SPIFFE id) from the development root, made on each start into <dir>/tls.
 */
async function stackTls(dir: string, rootKeys: LocalKeyProvider): Promise<StackTls> {
  const out = join(dir, "tls");
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const c = await issueFromDevelopmentRoot({
    rootDir: join(dir, "root"),
    rootKeys,
    uri: "spiffe://cluster.local/ns/istio-system/sa/isthmus",
    dnsNames: ["localhost"],
    ips: ["127.0.0.1"],
  });
  const f = { certFile: join(out, "tls.crt"), keyFile: join(out, "tls.key"), caFile: join(out, "ca.crt") };
  writeFileSync(f.certFile, c.certPem);
  writeFileSync(f.keyFile, c.keyPem, { mode: 0o600 });
  writeFileSync(f.caFile, c.rootPem);
  return f;
}

interface StackNats {
  url: string;
  stop: () => Promise<void>;
  origin: string;
  /** Per-service credentials, when the stack runs its own NATS. */
  users?: StackUser[];
}

type StackUser = NatsUser & { password: string };

/** Per-service NATS passwords, made on first run and kept in the stack's directory (0600). */
function stackUsers(dir: string): StackUser[] {
  const f = join(dir, "nats-users.json");
  if (!existsSync(f)) {
    const users = SERVICE_USERS.map((user) => ({ user, password: randomBytes(18).toString("base64url") }));
    writeFileSync(f, JSON.stringify(users, null, 2), { mode: 0o600 });
  }
  const users = JSON.parse(readFileSync(f, "utf8")) as StackUser[];
  // A stack made before a user existed (e.g. the console's) gets that user's password added.
  const missing = SERVICE_USERS.filter((user) => !users.some((u) => u.user === user));
  if (missing.length) {
    users.push(...missing.map((user) => ({ user, password: randomBytes(18).toString("base64url") })));
    writeFileSync(f, JSON.stringify(users, null, 2), { mode: 0o600 });
  }
  return users;
}

/**
 * NATS_URL when given (with NATS_USER/NATS_PASSWORD etc. for every service); otherwise a
 * nats-server of the stack's own where every service has its own credentials and may
 * publish only its domain; without a nats-server binary, one already on 127.0.0.1:4222.
 */
async function natsForStack(dir: string, mesh: string, log: (s: string) => void, tls?: StackTls, nodes = 1): Promise<StackNats> {
  const fromEnv = process.env.NATS_URL;
  if (fromEnv && nodes > 1)
    throw new Error("--nats-cluster starts the stack's own NATS cluster: unset NATS_URL, or point NATS_URL at your cluster without --nats-cluster");
  if (fromEnv) return { url: fromEnv, stop: async () => {}, origin: "NATS_URL" };
  if (findNatsServer()) {
    const users = stackUsers(dir);
    const tlsConfig = tls ? `\ntls { cert_file: ${JSON.stringify(tls.certFile)}, key_file: ${JSON.stringify(tls.keyFile)} }` : "";
    if (nodes > 1) {
      log(`starting a ${nodes}-node nats-server cluster with JetStream and per-service credentials ...`);
      const cluster = await NatsCluster.start({ size: nodes, config: natsAuthorization(users, mesh) + tlsConfig, syncAlways: true, ownProcessGroup: true });
      return {
        url: cluster.urls.join(","),
        stop: () => cluster.dispose(),
        origin: `started a ${nodes}-node cluster of ${cluster.nodes[0]?.bin}, each node with its own store; per-service credentials in ${join(dir, "nats-users.json")}`,
        users,
      };
    }
    log("starting nats-server with JetStream and per-service credentials ...");
    const srv = await NatsServer.start({ config: natsAuthorization(users, mesh) + tlsConfig, ownProcessGroup: true });
    return { url: srv.url, stop: () => srv.dispose(), origin: `started ${srv.bin}; per-service credentials in ${join(dir, "nats-users.json")}`, users };
  }
  const { host, port } = hostPort("nats://127.0.0.1:4222", 4222);
  if (await tcpReachable(host, port)) return { url: "nats://127.0.0.1:4222", stop: async () => {}, origin: "already running on 127.0.0.1:4222" };
  throw new Error("no NATS: set NATS_URL, or install nats-server (Debian/Ubuntu: sudo apt-get install -y nats-server; macOS: brew install nats-server)");
}

/** A key-encryption key kept in the stack's directory (0600), made on first run. */
function localKek(dir: string, name: string): LocalKeyProvider {
  const f = join(dir, name);
  if (!existsSync(f)) writeFileSync(f, randomBytes(32).toString("base64"), { mode: 0o600 });
  return new LocalKeyProvider(Buffer.from(readFileSync(f, "utf8").trim(), "base64"));
}

/**
 * The local control plane on one machine, no Docker: NATS, cert-authority (a development
 * root made on first run), discovery over two manifest-directory clusters, config-push, and
 * the seed 002 demo — helloworld v1 in cluster-1 and v2 in cluster-2, and a proxyless gRPC
 * client calling helloworld.default.svc.cluster.local:5000 through xDS.
 */
export async function up(o: UpOptions): Promise<void> {
  assertMeshId(o.mesh);
  // A closed terminal (EPIPE) must not kill the stack before it has stopped its children.
  process.stdout.on("error", () => {});
  const say = (s: string) => process.stdout.write(`${s}\n`);
  // Listening from the first moment: a signal during start-up stops what has started so far.
  const stopper = new StackStopper(say);
  const demoRound: { timer?: NodeJS.Timeout } = {};
  // up() returns only once everything has stopped: the CLI exits when its command returns.
  const stopped = stopper.interrupted.then(async () => {
    clearInterval(demoRound.timer);
    say("stopping ...");
    await stopper.stop();
    say("stopped.");
  });
  try {
    await runStack(o, say, stopper, demoRound);
  } catch (err) {
    // Start-up failing because a stop is under way is the stop's business, not an error.
    if (stopper.requested) return await stopped;
    await stopper.stop();
    throw err;
  }
  say("Ctrl-C stops everything.");
  await stopped;
}

async function runStack(o: UpOptions, say: (s: string) => void, stopper: StackStopper, demoRound: { timer?: NodeJS.Timeout }): Promise<void> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The development root, made on first run (the mesh CA's intermediate and, with --tls, the stack's serving certificate come from it).
  const rootKeys = localKek(dir, "root.kek");
  if (!existsSync(join(dir, "root", "root-key.wrapped"))) await initRoot({ dir: join(dir, "root"), keys: rootKeys, commonName: "Isthmus Development Root" });
  const tls = o.tls ? await stackTls(dir, rootKeys) : undefined;
  const nats = await natsForStack(dir, o.mesh, say, tls, o.natsCluster ?? 1);
  stopper.add("nats-server", () => nats.stop());
  const tel = await startTelemetry({
    serviceName: "isthmus-up",
    port: o.healthPort,
    logLevel: process.env.LOG_LEVEL ?? "warn",
    ...(tls ? { tls: { certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
  });
  stopper.add("telemetry", () => tel.shutdown());
  const baseOpts = {
    ...busOptionsFromEnv({ ...process.env, NATS_URL: nats.url }, "isthmus-up"),
    waitOnFirstConnect: false,
    ...(tls && nats.users ? { tls: { caFile: tls.caFile } } : {}),
  };
  const busFor = (user: ServiceUser): BusConnectOptions => {
    const u = nats.users?.find((x) => x.user === user);
    return u ? { ...baseOpts, name: user, user: u.user, password: u.password } : { ...baseOpts, name: user };
  };
  const bus = await Bus.connect(busFor("isthmus-cli"));
  stopper.add("NATS connection", () => bus.close());
  tel.health.addCheck("nats", () => bus.connected);
  await provisionMeshStreams(bus.jsm, o.mesh, { replicas: bus.streamReplicas });
  const db = process.env.DATABASE_URL;
  const dataDir = (svc: string) => (db ? undefined : join(dir, "data", svc));

  // cert-authority: a development root in <dir>/root on first run, the mesh's intermediate from it.
  const caKeys = localKek(dir, "ca.kek");
  const caStore = await openCaStore(db, dataDir("cert-authority"));
  if (!(await loadActiveIssuer(caStore, o.mesh, caKeys))) {
    await createIntermediate({ mesh: o.mesh, trustDomain: "cluster.local", rootDir: join(dir, "root"), rootKeys, store: caStore, meshKeys: caKeys });
  }
  await caStore.close();
  const ca = await startCertAuthority({
    mesh: o.mesh,
    trustDomain: "cluster.local",
    databaseUrl: db,
    dataDir: dataDir("cert-authority"),
    keys: caKeys,
    grpcHost: "127.0.0.1",
    grpcPort: Number(process.env.CA_GRPC_PORT ?? 15012),
    grpcTls: true,
    serverNames: ["localhost"],
    bus: busFor("cert-authority"),
    audiences: ["istio-ca"],
    clusters: [],
  });
  stopper.add("cert-authority", () => ca.stop());
  tel.health.addCheck("cert-authority", () => ca.ready());

  // The demo workloads and the two manifest-directory clusters they live in.
  const demo: Array<{ stop(): void }> = [];
  if (o.demo) {
    const v1 = await helloworldServer("v1", "helloworld-v1-local");
    const v2 = await helloworldServer("v2", "helloworld-v2-local");
    demo.push(v1, v2);
    stopper.add("demo workloads", () => {
      for (const d of demo) d.stop();
    });
    for (const [id, version, port] of [
      ["cluster-1", "v1", v1.port],
      ["cluster-2", "v2", v2.port],
    ] as const) {
      mkdirSync(join(dir, "clusters", id), { recursive: true });
      writeFileSync(join(dir, "clusters", id, "helloworld.yaml"), helloworldManifest(version, port));
    }
    const regStore = await openDiscoveryStore(db, dataDir("discovery"));
    await upsertCluster(regStore, {
      id: "cluster-1",
      source: { manifests: join(dir, "clusters", "cluster-1") },
      mode: "managed",
      network: "network1",
      region: "local",
      zone: "zone-1",
    });
    await upsertCluster(regStore, {
      id: "cluster-2",
      source: { manifests: join(dir, "clusters", "cluster-2") },
      mode: "discovery-only",
      network: "network2",
      region: "local",
      zone: "zone-2",
    });
    await regStore.close();
  }
  const discovery = await startDiscovery({ mesh: o.mesh, databaseUrl: db, dataDir: dataDir("discovery"), bus: busFor("discovery") });
  stopper.add("discovery", () => discovery.stop());
  tel.health.addCheck("discovery", () => discovery.ready());
  const xdsPort = Number(process.env.XDS_PORT ?? 15010);
  // pvl-manager on the simulated cloud (the demo topology), reconciling ASMPvlConfig from the mesh's
  // config cluster when CONFIG_KUBECONFIG names one, otherwise from the CONFIG stream (`isthmus apply`).
  const pvlKubeconfig = process.env.CONFIG_KUBECONFIG;
  const { startPvlManager, SimulatedCloud, demoTopology, describeTopology } = await import("@isthmus/pvl-manager");
  const pvlCloud = await SimulatedCloud.open(db, dataDir("pvl-sim"));
  const topology = demoTopology();
  await pvlCloud.seed(topology, { provisionMs: Number(process.env.PVL_SIM_PROVISION_MS ?? 2_000) });
  const pvl = await startPvlManager({
    mesh: o.mesh,
    configCluster: pvlKubeconfig ? { kubeconfigPath: pvlKubeconfig } : undefined,
    provider: pvlCloud,
    databaseUrl: db,
    dataDir: dataDir("pvl-manager"),
    bus: busFor("pvl-manager"),
    // The demo clusters have no API server whose certificate could be checked.
    sanCheck: false,
  });
  stopper.add("pvl-manager", async () => {
    await pvl.stop();
    await pvlCloud.close();
  });
  // With --tls, xDS is mutual TLS on XDS_PORT, and plaintext stays on XDS_PLAINTEXT_PORT for gRPC's xDS
  // clients, which cannot speak TLS to the control plane (as Istio keeps 15010 next to 15012).
  const cp = await startConfigPush({
    mesh: o.mesh,
    bus: busFor("config-push"),
    host: "127.0.0.1",
    port: xdsPort,
    ...(tls ? { tls, plaintextPort: Number(process.env.XDS_PLAINTEXT_PORT ?? 15011) } : {}),
  });
  for (const [path, handler] of Object.entries(cp.debug)) tel.health.addRoute(path, handler);
  stopper.add("config-push", () => cp.stop());
  await cp.ready;
  tel.health.addCheck("config-push", () => cp.following());
  // The web console: read-only, on loopback only, with the console's read-only NATS user. Loaded
  // here so that the CLI's other commands do not load it.
  const { startConsole } = await import("@isthmus/console");
  const web = await startConsole({
    mesh: o.mesh,
    bus: busFor("console"),
    host: "127.0.0.1",
    port: Number(process.env.CONSOLE_PORT ?? 20001),
    ...(tls ? { tls } : { configPushDebugUrl: tel.health.url }),
  });
  stopper.add("console", () => web.stop());

  // Mesh configuration: the watched config directory, and `isthmus apply` (both through admission into the CONFIG stream).
  const configDir = resolve(o.configDir ?? join(dir, "config"));
  const configSource = new ConfigDirSource({ dir: configDir, store: new StreamConfigStore(bus, o.mesh), actor: "isthmus-up", say });
  await configSource.start();
  stopper.add("config directory", () => configSource.stop());

  const cli = nats.users?.find((u) => u.user === "isthmus-cli");
  const env = `NATS_URL=${nats.url}${cli ? ` NATS_USER=${cli.user} NATS_PASSWORD=${cli.password}` : ""}`;
  say("");
  say(`Isthmus local stack — mesh "${o.mesh}" (state in ${db ? "DATABASE_URL" : join(dir, "data")})`);
  say(`  NATS JetStream   ${nats.url}  (${nats.origin})`);
  say(`  cert-authority   127.0.0.1:${ca.grpcPort} (Istio CreateCertificate, TLS; root in ${join(dir, "root")})`);
  say(`  discovery        clusters: ${discovery.leading().join(", ") || "none"}`);
  say(
    tls
      ? `  config-push      xDS on 127.0.0.1:${cp.port} (mutual TLS, proxies identified by SPIFFE id); plaintext for gRPC clients on 127.0.0.1:${cp.plaintextPort}`
      : `  config-push      xDS on 127.0.0.1:${cp.port}`,
  );
  if (tls) say(`  TLS              NATS, xDS, CA and health use ${tls.certFile} (CA bundle ${tls.caFile})`);
  say(
    `  pvl-manager      ASMPvlConfig ${pvlKubeconfig ? `on the cluster of ${pvlKubeconfig}` : "from the CONFIG stream (isthmus apply -f asmpvlconfig.yaml)"} on the simulated cloud:`,
  );
  for (const l of describeTopology(topology)) say(`                     ${l}`);
  say(`  config           ${configDir} (watched: a file's objects are applied, removing it deletes them), or: ${env} node cli/dist/main.js apply -f FILE`);
  say(`  console          ${web.url}  (read-only)`);
  say(`  health           ${tel.health.url}/healthz  ${tel.health.url}/readyz`);
  say(`  metrics          ${tel.health.url}/metrics`);
  say(`  proxy status     ${env} node cli/dist/main.js proxy-status --mesh ${o.mesh}`);
  say(`  proxy config     node cli/dist/main.js proxy-config all <proxy-id> --url ${tel.health.url}   (${tel.health.url}/debug/syncz)`);
  say(`  events           ${env} node cli/dist/main.js events tail --mesh ${o.mesh} --format table`);
  say("");

  if (o.demo) {
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = grpcBootstrap({
      server: `127.0.0.1:${cp.plaintextPort ?? cp.port}`,
      nodeId: "sidecar~127.0.0.1~sleep-local.default~default.svc.cluster.local",
      locality: { region: "local", zone: "zone-1" },
    });
    const xds = await import("@grpc/grpc-js-xds");
    xds.register();
    const client = new GreeterClient("xds:///helloworld.default.svc.cluster.local:5000", grpc.credentials.createInsecure());
    stopper.add("demo client", () => client.close());
    say("Demo (seed 002): a client in cluster-1 calling helloworld through xDS, 10 calls every 5 s:");
    const round = async () => {
      const lines: string[] = [];
      for (let i = 0; i < 10; i++) lines.push(await sayHello(client).catch((e: Error) => `(error: ${e.message})`));
      say(lines.map((l) => `  ${l}`).join("\n"));
      say("");
    };
    await round();
    demoRound.timer = setInterval(() => void round(), 5_000);
  }
}
