import { KEY_ALGORITHMS } from "@isthmus/pki";
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { agent } from "./commands/agent.js";
import { caBootstrapToken, caCreateIntermediate, caImportPlugin, caInitRoot, caList, caRevoke, caTrust } from "./commands/ca.js";
import { clusterAdd, clusterList, clusterRemove } from "./commands/cluster.js";
import { demoClient, demoServer } from "./commands/demo.js";
import { eventsTail } from "./commands/events-tail.js";
import { natsProvision, natsProvisionRemote } from "./commands/nats.js";
import { type ConfigKind, proxyConfig } from "./commands/proxy-config.js";
import { proxyStatus } from "./commands/proxy-status.js";
import { pvlStatus } from "./commands/pvl.js";
import { up } from "./commands/up.js";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function clusterSize(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new InvalidArgumentError("expected a node count from 1 to 5 (3 for R3 streams)");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("isthmus").description("Isthmus service-mesh control plane").showHelpAfterError();

  program
    .command("up")
    .description("run the control plane locally (no Docker): NATS, streams, services, demo")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--health-port <port>", "port of the stack's health/metrics endpoint", positiveInt, 9090)
    .option("--dir <dir>", "where the stack keeps its state (embedded databases, development root, demo clusters)", ".isthmus")
    .option("--no-demo", "no helloworld demo workloads and client")
    .option("--tls", "TLS on every listener (NATS, xDS, health), from the development root")
    .option("--config-dir <dir>", "watched configuration directory (default: <dir>/config)")
    .option("--nats-cluster <nodes>", "run the stack's own NATS as a local cluster of this many nodes (3: streams at three replicas)", clusterSize, 1)
    .action((o: { mesh: string; healthPort: number; dir: string; demo: boolean; tls?: boolean; configDir?: string; natsCluster: number }) => up(o));

  // Mesh configuration: one admission path whatever the store (config cluster or CONFIG stream).
  // Loaded when used: the published schemas are large, and every other command starts faster without them.
  const config = () => import("./config/commands.js");
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const target = (c: Command) =>
    c
      .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
      .option("--kubeconfig <file>", "the mesh's config cluster (default: CONFIG_KUBECONFIG; without one the CONFIG stream is the store)");
  target(program.command("apply"))
    .description("admit and apply configuration (Istio, Gateway API, ASM kinds) from files, directories or stdin")
    .requiredOption("-f, --filename <path>", "a file, a directory (recursively) or - for stdin; repeatable", collect)
    .option("-n, --namespace <ns>", "namespace of objects that do not say")
    .option("--dry-run", "admit and report, write nothing")
    .action(async (o) => (await config()).apply(o));
  target(program.command("delete"))
    .description("delete configuration named in files, or KIND NAME")
    .argument("[kind]", "kind (virtualservice, vs, destinationrule, ...)")
    .argument("[name]", "name")
    .option("-f, --filename <path>", "a file, a directory or - for stdin; repeatable", collect)
    .option("-n, --namespace <ns>", "namespace", undefined)
    .option("--ignore-not-found", "no error for objects that do not exist")
    .action(async (kind: string | undefined, name: string | undefined, o) =>
      (await config()).del({ ...o, ...(kind ? { kind } : {}), ...(name ? { name } : {}) }),
    );
  target(program.command("get"))
    .description("configuration objects with their status (validation messages)")
    .argument("<kind>", "kind (virtualservice, vs, destinationrule, gateways.gateway.networking.k8s.io, asmpvlconfig, ...)")
    .argument("[name]", "name")
    .option("-n, --namespace <ns>", "namespace", undefined)
    .option("-A, --all-namespaces", "every namespace")
    .addOption(new Option("-o, --output <format>", "output").choices(["table", "yaml", "json"]).default("table"))
    .action(async (kind: string, name: string | undefined, o) => (await config()).get({ ...o, kind, ...(name ? { name } : {}) }));
  target(program.command("analyze"))
    .description("istioctl-analyze-style messages for the mesh's configuration, with files laid over it")
    .option("-f, --filename <path>", "files to analyze with the mesh's configuration; repeatable", collect)
    .option("-n, --namespace <ns>", "namespace", undefined)
    .option("-A, --all-namespaces", "every namespace")
    .option("--no-use-kube", "analyze the files alone")
    .action(async (o) => (await config()).analyzeCmd(o));
  const cfg = program.command("config").description("mesh configuration");
  target(cfg.command("history"))
    .description("every version of one object: who, when, from where, what changed (the CONFIG stream's log)")
    .argument("<ref>", "KIND/NAME, e.g. virtualservice/reviews")
    .option("-n, --namespace <ns>", "namespace", undefined)
    .addOption(new Option("-o, --output <format>", "output").choices(["table", "yaml"]).default("table"))
    .action(async (ref: string, o) => (await config()).history({ ...o, ref }));
  target(cfg.command("watch"))
    .description("apply a directory's configuration and follow it (what `isthmus up` does; the compose stack's config service)")
    .requiredOption("--dir <dir>", "the directory")
    .action(async (o: { mesh: string; dir: string }) => (await config()).watchConfigDir(o));

  const events = program.command("events").description("the mesh's event streams");
  events
    .command("tail")
    .description("print events as they arrive")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--domain <domain>", "discovery | config | ca | pvl | push | dlq (default: all)")
    .option("--subject <filter>", "a subject filter, e.g. mesh.default.discovery.service.>")
    .addOption(new Option("--format <format>", "output").choices(["json", "table"]).default("json"))
    .addOption(new Option("--from <from>", "where to start").choices(["new", "all", "last"]).default("new"))
    .option("--limit <n>", "exit after n events", positiveInt)
    .action((o: Parameters<typeof eventsTail>[0]) => eventsTail(o));

  const keyAlg = () => new Option("--key-alg <alg>", "key algorithm").choices([...KEY_ALGORITHMS]).default("ec-p256");
  const meshOpts = (c: Command) =>
    c
      .requiredOption("--mesh <id>", "mesh id")
      .option("--database-url <url>", "the mesh CA's database (default: DATABASE_URL)")
      .option("--trust-domain <td>", "SPIFFE trust domain", "cluster.local")
      .option("--kek-file <file>", "the mesh CA's key-encryption key (default: CA_KEK / CA_KEK_FILE)");

  const ca = program.command("ca").description("roots, intermediates and the trust bundle");
  ca.command("init-root")
    .description("create a root CA in a directory kept offline (key wrapped by the root KEK)")
    .requiredOption("--dir <dir>", "where to write root-cert.pem and root-key.wrapped")
    .addOption(keyAlg())
    .option("--ttl-days <n>", "validity", positiveInt, 3650)
    .option("--root-kek-file <file>", "root key-encryption key (default: ISTHMUS_ROOT_KEK / ISTHMUS_ROOT_KEK_FILE)")
    .action((o) => caInitRoot(o));
  meshOpts(ca.command("create-intermediate"))
    .description("sign an intermediate for a mesh from the root and make it the mesh's issuer")
    .requiredOption("--root-dir <dir>", "the root's directory")
    .option("--root-kek-file <file>", "root key-encryption key")
    .addOption(keyAlg())
    .option("--ttl-days <n>", "validity", positiveInt, 365)
    .action((o) => caCreateIntermediate(o));
  meshOpts(ca.command("import-plugin"))
    .description("import Istio plug-in CA files (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)")
    .requiredOption("--dir <dir>", "directory with the plug-in files")
    .action((o) => caImportPlugin(o));
  const trust = ca.command("trust").description("the mesh's trust bundle (root rotation: add B, issue from B, remove A)");
  meshOpts(trust.command("add"))
    .requiredOption("--root <pem>", "root certificate file")
    .action((o) => caTrust("add", o));
  meshOpts(trust.command("remove"))
    .requiredOption("--root <pem>", "root certificate file")
    .action((o) => caTrust("remove", o));
  meshOpts(ca.command("bootstrap-token"))
    .description("a token for one workload outside Kubernetes (printed once, stored hashed)")
    .requiredOption("--namespace <ns>", "namespace of the identity")
    .requiredOption("--service-account <sa>", "service account of the identity")
    .option("--ttl-hours <n>", "expiry", positiveInt, 24)
    .action((o) => caBootstrapToken(o));

  meshOpts(ca.command("revoke"))
    .description("revoke a certificate: recorded in the ledger, announced, refused for renewal")
    .requiredOption("--serial <hex>", "serial number (hex)")
    .option("--reason <text>", "why", "unspecified")
    .action((o) => caRevoke(o));

  ca.command("list")
    .description("certificates of the ledger: valid, expiring, revoked (soonest to expire first)")
    .requiredOption("--mesh <id>", "mesh id")
    .option("--database-url <url>", "the mesh CA's database (default: DATABASE_URL)")
    .option("--expiring-within <duration>", "only unrevoked certificates expiring within this (e.g. 30m, 12h, 7d); without it, expiring means within 1h")
    .option("--all", "include expired certificates")
    .option("--limit <n>", "at most this many", positiveInt, 1000)
    .addOption(new Option("-o, --output <format>", "output").choices(["table", "json"]).default("table"))
    .action((o) => caList(o));

  const cluster = program.command("cluster").description("the discovery registry: which clusters the mesh reads");
  cluster
    .command("add")
    .description("register a cluster (or update it); running discovery replicas pick it up at once")
    .requiredOption("--id <id>", "cluster id")
    .option("--kubeconfig <file>", "reach its API server with this kubeconfig")
    .option("--in-cluster", "the cluster discovery runs in")
    .option("--manifests <dir>", "a directory of YAML (Service, EndpointSlice, ServiceEntry, WorkloadEntry)")
    .addOption(new Option("--mode <mode>", "role").choices(["managed", "discovery-only", "remote-control-plane"]).default("managed"))
    .option("--network <name>", "network name (endpoints elsewhere go through its east-west gateway)", "")
    .option("--region <region>", "default region of its endpoints", "")
    .option("--zone <zone>", "default zone of its endpoints", "")
    .option("--database-url <url>", "discovery's database (default: DATABASE_URL)")
    .action((o) => clusterAdd(o));
  cluster
    .command("remove")
    .requiredOption("--id <id>", "cluster id")
    .option("--database-url <url>", "discovery's database (default: DATABASE_URL)")
    .action((o) => clusterRemove(o));
  cluster
    .command("list")
    .addOption(new Option("--format <format>", "output").choices(["table", "json"]).default("table"))
    .option("--database-url <url>", "discovery's database (default: DATABASE_URL)")
    .action((o) => clusterList(o));

  const pvl = program.command("pvl").description("PrivateLink (ASMPvlConfig)");
  pvl
    .command("status")
    .description("status of the ASMPvlConfig, with diagnostics and their fixes")
    .option("--kubeconfig <file>", "the ASM instance's kubeconfig (default: CONFIG_KUBECONFIG; without one, the status pvl-manager published on NATS)")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--name <name>", "resource name", "default")
    .addOption(new Option("--format <format>", "output").choices(["text", "json"]).default("text"))
    .action((o) => pvlStatus(o));

  program
    .command("proxy-status")
    .description("xDS sync state of every connected proxy (SYNCED / NOT SENT / STALE / NACKED per type)")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--all", "include disconnected proxies")
    .action((o) => proxyStatus(o));

  const nats = program.command("nats").description("the mesh's NATS");
  nats
    .command("provision")
    .description("create or update the mesh's streams (run with the operator's credentials: NATS_USER=isthmus-cli)")
    .requiredOption("--mesh <id>", "mesh id")
    .option("--replicas <n>", "stream replicas (3 on a 3-node NATS cluster)", positiveInt, 1)
    .action((o: { mesh: string; replicas: number }) => natsProvision(o));
  nats
    .command("provision-remote")
    .description("a remote control plane's streams on its leaf node (run against the leaf)")
    .requiredOption("--mesh <id>", "mesh id")
    .option("--hub-domain <d>", "the hub's JetStream domain", "hub")
    .requiredOption("--leaf-domain <d>", "the leaf node's JetStream domain")
    .action((o: { mesh: string; hubDomain: string; leafDomain: string }) => natsProvisionRemote(o));

  const demo = program.command("demo").description("seed 002's helloworld workloads, for the compose file and Kubernetes examples");
  demo
    .command("server")
    .description("a helloworld gRPC server answering with its version")
    .requiredOption("--version <v>", "v1, v2, ...")
    .option("--instance <name>", "instance name in the answer", process.env.HOSTNAME ?? "helloworld")
    .option("--host <ip>", "listen address", "0.0.0.0")
    .option("--port <port>", "listen port", positiveInt, 5000)
    .action((o) => demoServer(o));
  demo
    .command("client")
    .description("a proxyless gRPC client calling a service through xDS, printing the answers")
    .option("--xds <host:port>", "config-push's xDS address", "127.0.0.1:15010")
    .option("--target <host:port>", "the service", "helloworld.default.svc.cluster.local:5000")
    .option("--node <id>", "xDS node id", "sidecar~127.0.0.1~sleep-0.default~default.svc.cluster.local")
    .option("--calls <n>", "calls per round", positiveInt, 10)
    .option("--every-ms <ms>", "time between rounds", positiveInt, 5_000)
    .action((o) => demoClient(o));

  program
    .command("proxy-config")
    .description("what config-push serves one proxy: clusters, listeners, routes, endpoints or secrets (from its /debug/config_dump)")
    .addArgument(new Argument("<kind>", "resource kind").choices(["cluster", "listener", "route", "endpoint", "secret", "all"]))
    .argument("<proxy-id>", "the proxy's xDS node id")
    .option("--url <url>", "config-push's HTTP (health/debug) address", process.env.ISTHMUS_CONFIG_PUSH_URL ?? "http://127.0.0.1:15014")
    .addOption(new Option("-o, --output <format>", "output").choices(["table", "json"]).default("table"))
    .option("--validate", "check every resource of the proxy against Envoy's constraints instead (exit 1 on a violation)")
    .action((kind: ConfigKind, proxy: string, o: { url: string; output: "table" | "json"; validate?: boolean }) => proxyConfig({ kind, proxy, ...o }));

  program
    .command("agent")
    .description("obtain a workload certificate and keep it renewed, in gRPC's file_watcher layout")
    .requiredOption("--ca-address <host:port>", "the cert-authority gRPC address")
    .requiredOption("--ca-roots <pem>", "roots that authenticate the CA")
    .requiredOption("--out <dir>", "where to write key.pem, cert-chain.pem, root-cert.pem")
    .option("--token <token>", "service-account or bootstrap token")
    .option("--token-file <file>", "file holding the token (e.g. a projected service-account token)")
    .option("--cluster-id <id>", "cluster that vouches for the token")
    .addOption(keyAlg())
    .option("--once", "obtain one certificate and exit")
    .action((o) => agent(o));

  return program;
}
