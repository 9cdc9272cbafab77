import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { natsServerConfig, passwordEnv, SERVICE_USERS, type ServiceUser } from "@isthmus/bus";
import { configFromEnv as caConfig } from "@isthmus/cert-authority";
import { configFromEnv as configPushConfig } from "@isthmus/config-push";
import { configFromEnv as discoveryConfig, readClustersFile } from "@isthmus/discovery";
import { configFromEnv as pvlConfig } from "@isthmus/pvl-manager";
import { createTestDatabase, type TestDatabase } from "@isthmus/testing";
import { loadYaml } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../src/program.js";

// docker-compose.yml checked against the code: no Docker engine runs here, so the file is
// parsed (and `docker compose config` runs too where Compose exists) and every service,
// image, command, port, env var, credential and mount is checked against what the
// programs read.
const root = join(import.meta.dirname, "..", "..");
const kekFile = join(mkdtempSync(join(tmpdir(), "compose-")), "ca.kek");
writeFileSync(kekFile, randomBytes(32).toString("base64"));
const composeText = readFileSync(join(root, "docker-compose.yml"), "utf8");

/** Compose's `${VAR:-default}` / `${VAR}` / `$$` interpolation, with an empty environment. */
function interpolate(v: unknown): unknown {
  if (typeof v === "string")
    return v.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (m, _name: string, def: string | undefined) => (m === "$$" ? "$" : (def ?? "")));
  if (Array.isArray(v)) return v.map(interpolate);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x)]));
  return v;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  networks?: string[] | Record<string, { ipv4_address?: string }>;
  profiles?: string[];
  restart?: string;
}
const compose = interpolate(
  loadYaml<{ services: Record<string, Service>; networks: Record<string, { ipam: { config: Array<{ subnet: string }> } }> }>(composeText),
) as {
  services: Record<string, Service>;
  networks: Record<string, { ipam: { config: Array<{ subnet: string }> } }>;
};
const services = compose.services;

const PROGRAMS: Record<string, { user: ServiceUser; read: (env: NodeJS.ProcessEnv) => unknown }> = {
  "services/discovery/dist/main.js": { user: "discovery", read: discoveryConfig },
  "services/config-push/dist/main.js": { user: "config-push", read: configPushConfig },
  "services/cert-authority/dist/main.js": { user: "cert-authority", read: caConfig },
  "services/pvl-manager/dist/main.js": { user: "pvl-manager", read: pvlConfig },
};
// Read by every service's main through libs/telemetry rather than its configFromEnv.
const TELEMETRY_ENV = new Set(["HEALTH_HOST", "HEALTH_PORT", "LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER"]);

/** Which env vars a config reader looks at (a recording proxy), and what it makes of these. */
async function readsOf(read: (env: NodeJS.ProcessEnv) => unknown, env: Record<string, string>): Promise<{ seen: Set<string>; config: unknown }> {
  const seen = new Set<string>();
  const proxy = new Proxy(env, {
    get(t, k) {
      if (typeof k === "string") seen.add(k);
      return t[k as string];
    },
  });
  return { seen, config: await read(proxy) };
}

let db: TestDatabase | undefined;
afterAll(async () => {
  await db?.drop();
});

describe("docker-compose.yml", () => {
  it("passes `docker compose config` where Docker Compose exists", () => {
    const probe = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
    if (probe.status !== 0) {
      // No Compose plugin here: the structural checks below are what stands.
      expect(probe.status).not.toBe(0);
      return;
    }
    const r = spawnSync("docker", ["compose", "-f", join(root, "docker-compose.yml"), "config", "-q"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("builds every Isthmus container from the one multi-stage Dockerfile, running programs that exist", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const ours = Object.entries(services).filter(([, s]) => s.build);
    expect(ours.map(([n]) => n).sort()).toEqual(
      ["ca-init", "cert-authority", "cli", "config", "config-push", "demo-client", "discovery", "helloworld-v1", "helloworld-v2", "pvl-manager"].sort(),
    );
    const cli = buildProgram();
    for (const [name, s] of ours) {
      expect(s.image, name).toBe("isthmus:dev");
      expect(s.build?.dockerfile, name).toBe("Dockerfile");
      const program = s.command?.[0];
      if (!program || s.entrypoint) continue;
      expect(existsSync(join(root, program.replace("/dist/", "/src/").replace(/\.js$/, ".ts"))), `${name}: ${program}`).toBe(true);
      if (program === "cli/dist/main.js") {
        // The CLI subcommand it runs exists.
        const [cmd, sub] = s.command?.slice(1) ?? [];
        const c = cli.commands.find((x) => x.name() === cmd);
        expect(c, `${name}: isthmus ${cmd}`).toBeDefined();
        if (sub && !sub.startsWith("-"))
          expect(
            c?.commands.some((x) => x.name() === sub),
            `${name}: isthmus ${cmd} ${sub}`,
          ).toBe(true);
      }
    }
    // ca-init's script uses real CLI commands.
    const script = services["ca-init"]?.command?.[0] ?? "";
    for (const [, cmd, sub] of script.matchAll(/main\.js (\S+) (\S+)/g)) {
      expect(
        cli.commands.find((x) => x.name() === cmd)?.commands.some((x) => x.name() === sub),
        `isthmus ${cmd} ${sub}`,
      ).toBe(true);
    }
  });

  it("gives each service env vars its code reads, its own NATS credentials, and publishes the ports it listens on", async () => {
    const nats = services.nats as Service;
    for (const [program, { user, read }] of Object.entries(PROGRAMS)) {
      const [name, s] = Object.entries(services).find(([, x]) => x.command?.[0] === program) ?? [];
      expect(s, program).toBeDefined();
      const env = { ...(s?.environment ?? {}) };
      // The CA reads its key-encryption key file at start: give it one where the volume would be.
      if (env.CA_KEK_FILE) env.CA_KEK_FILE = kekFile;
      // pvl-manager opens its simulated cloud's database while reading its config: a real one of the test's.
      if (user === "pvl-manager") {
        db ??= await createTestDatabase();
        env.DATABASE_URL = db.url;
      }
      const { seen, config } = await readsOf(read, env);
      await (config as { provider?: { close?: () => Promise<void> } }).provider?.close?.();
      for (const k of Object.keys(env)) expect(seen.has(k) || TELEMETRY_ENV.has(k), `${name}: ${k} is read by nothing`).toBe(true);
      const c = config as { mesh: string; bus?: { servers: string[]; user?: string; password?: string } };
      expect(c.mesh).toBe("default");
      expect(c.bus?.servers).toEqual(["nats://nats:4222"]);
      // Its own user, with the password the NATS container gives that user.
      expect(c.bus?.user).toBe(user);
      expect(c.bus?.password).toBe(nats.environment?.[passwordEnv(user)]);
      expect(s?.depends_on?.nats?.condition).toBe("service_healthy");
      expect(s?.healthcheck?.test.join(" ")).toContain("/readyz");
    }
    const cp = configPushConfig(services["config-push"]?.environment ?? {});
    expect(services["config-push"]?.ports).toContain(`${cp.port}:${cp.port}`);
    const ca = caConfig({ ...services["cert-authority"]?.environment, CA_KEK_FILE: kekFile }) as { grpcPort: number };
    expect(services["cert-authority"]?.ports).toContain(`${ca.grpcPort}:${ca.grpcPort}`);
    // Every NATS user has a password in the NATS container's environment.
    for (const u of SERVICE_USERS) expect(nats.environment?.[passwordEnv(u)], u).toBeTruthy();
  });

  it("starts in dependency order on healthy dependencies", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} -> ${dep}`).toBeDefined();
        if (condition === "service_healthy") expect(services[dep]?.healthcheck, `${dep} has a healthcheck`).toBeDefined();
        if (condition === "service_completed_successfully") expect(services[dep]?.restart).toBe("no");
      }
    }
    expect(services["cert-authority"]?.depends_on?.["ca-init"]?.condition).toBe("service_completed_successfully");
  });

  it("runs NATS with JetStream on a file store with fsync always, per-service users, and the checked-in config is current", () => {
    const onDisk = readFileSync(join(root, "deploy/compose/nats.conf"), "utf8");
    // Stale? Run `npm run gen` and commit deploy/compose/nats.conf.
    expect(onDisk).toBe(natsServerConfig({ serverName: "isthmus-nats", storeDir: "/data/jetstream" }));
    expect(onDisk).toMatch(/sync_interval: "always"/);
    expect(onDisk).not.toMatch(/no_auth_user/);
    expect(services.nats?.volumes).toContain("nats-data:/data");
    expect(services.nats?.volumes).toContain("./deploy/compose/nats.conf:/etc/nats/nats.conf:ro");
  });

  it("wires the seed 002 demo: manifest clusters name the helloworld containers' fixed addresses", () => {
    const clustersFile = readClustersFile(join(root, "deploy/compose/clusters.yaml"));
    expect(clustersFile.map((c) => [c.id, c.mode, c.network])).toEqual([
      ["cluster-1", "managed", "network1"],
      ["cluster-2", "discovery-only", "network2"],
    ]);
    const discovery = services.discovery as Service;
    expect(discovery.volumes).toContain("./deploy/compose/clusters:/etc/isthmus/clusters:ro");
    const subnet = compose.networks.mesh?.ipam.config[0]?.subnet ?? "";
    for (const [i, c] of clustersFile.entries()) {
      const dir = (c.source as { manifests: string }).manifests.replace("/etc/isthmus/clusters", join(root, "deploy/compose/clusters"));
      const manifest = readFileSync(join(dir, "helloworld.yaml"), "utf8");
      const nets = services[`helloworld-v${i + 1}`]?.networks as Record<string, { ipv4_address: string }> | undefined;
      const ip = nets?.mesh?.ipv4_address ?? "";
      expect(manifest).toContain(`"${ip}"`);
      expect(ip.startsWith(subnet.replace(/0\/24$/, ""))).toBe(true);
      expect(services[`helloworld-v${i + 1}`]?.command).toContain(`v${i + 1}`);
    }
    expect(services["demo-client"]?.command).toEqual(expect.arrayContaining(["--xds", "config-push:15010"]));
  });
});
