import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KINDS } from "@isthmus/config";
import { loadYaml } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { chartNatsAuthorization, helmValues, helmValuesJsonSchema } from "../src/deploy/helm-values.js";

// The Helm chart in deploy/helm/isthmus. Its values are checked against the schema (the one
// Helm reads, generated from cli/src/deploy/helm-values.ts) and its templates against its
// values; rendering needs the helm binary, which this machine's registries do not offer, so
// `helm lint` and `helm template` run only where helm is installed.
const root = join(import.meta.dirname, "..", "..");
const chart = join(root, "deploy/helm/isthmus");
const read = (f: string) => readFileSync(join(chart, f), "utf8");
const defaults = loadYaml<Record<string, unknown>>(read("values.yaml"));
const examples = readdirSync(join(root, "deploy/helm/examples")).filter((f) => f.endsWith(".yaml"));
const templates = readdirSync(join(chart, "templates")).map((f) => [f, read(`templates/${f}`)] as const);

/** Helm's merge of a values file over the chart's defaults (maps merge, everything else replaces). */
function merge(base: unknown, over: unknown): unknown {
  if (base && over && typeof base === "object" && typeof over === "object" && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
    return out;
  }
  return over === undefined ? base : over;
}
const valuesOf = (example: string) => merge(defaults, loadYaml(readFileSync(join(root, "deploy/helm/examples", example), "utf8")));
const fromJsonSchema = z.fromJSONSchema(JSON.parse(read("values.schema.json")));

describe("Helm chart", () => {
  it("ships a current values.schema.json and NATS authorization (run `npm run gen` when not)", () => {
    expect(read("values.schema.json")).toBe(helmValuesJsonSchema());
    expect(read("files/nats-authorization.conf")).toBe(`${chartNatsAuthorization()}\n`);
    for (const crd of ["asmpvlconfigs.istio.alibabacloud.com.yaml", "asmmeshconfigs.istio.alibabacloud.com.yaml"])
      expect(read(`crds/${crd}`), crd).toBe(readFileSync(join(root, "deploy/crds", crd), "utf8"));
  });

  it("lets config-push watch every configuration kind admission knows on the config cluster, and write their status", () => {
    const rbac = read("templates/rbac.yaml");
    const role = rbac.slice(rbac.indexOf("-config-push\n"), rbac.indexOf("---", rbac.indexOf("-config-push\n")));
    for (const k of KINDS) {
      const rule = new RegExp(`apiGroups: \\[${k.group.replace(/\./g, "\\.")}\\]\\s+resources: \\[([^\\]]*)\\]\\s+verbs: \\[get, list, watch\\]`);
      expect(rule.exec(role)?.[1]?.split(", "), `${k.plural}.${k.group}`).toContain(k.plural);
      const status = new RegExp(`apiGroups: \\[${k.group.replace(/\./g, "\\.")}\\]\\s+resources: \\[([^\\]]*)\\]\\s+verbs: \\[get, update, patch\\]`);
      if (k.key !== "ASMPvlConfig") expect(status.exec(role)?.[1]?.split(", "), `${k.plural}/status`).toContain(`${k.plural}/status`);
    }
  });

  it.each(["values.yaml", ...examples])("%s is valid for the chart (checked by the schema Helm reads, too)", (file) => {
    const values = file === "values.yaml" ? defaults : valuesOf(file);
    const r = helmValues.safeParse(values);
    expect(r.success ? "" : z.prettifyError(r.error)).toBe("");
    expect(fromJsonSchema.safeParse(values).success).toBe(true);
  });

  it("refuses values that would deploy something broken, saying why", () => {
    const remoteWithoutClusters = merge(defaults, { role: "remote", remote: { hubLeafUrl: "nats-leaf://hub:7422" } });
    const r1 = helmValues.safeParse(remoteWithoutClusters);
    expect(r1.success ? "" : z.prettifyError(r1.error)).toMatch(/a remote control plane serves at least one cluster/);
    const noPostgres = merge(defaults, { postgres: { url: "", existingSecret: "" } });
    expect(helmValues.safeParse(noPostgres).success).toBe(false);
    for (const bad of [
      merge(defaults, { mesh: { id: "Not_A_Label" } }),
      merge(defaults, { role: "satellite" }),
      merge(defaults, { configPush: { replicas: 0 } }),
    ]) {
      expect(helmValues.safeParse(bad).success).toBe(false);
      expect(fromJsonSchema.safeParse(bad).success).toBe(false);
    }
  });

  it("templates read only values the chart defines, include only defined helpers, and label every object the standard way", () => {
    const defined = new Set([...read("templates/_helpers.tpl").matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    const has = (path: string[]) => {
      let v: unknown = defaults;
      for (const k of path) {
        if (!v || typeof v !== "object" || !(k in v)) return false;
        v = (v as Record<string, unknown>)[k];
      }
      return true;
    };
    for (const [file, text] of templates) {
      for (const [, path = ""] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) expect(has(path.split(".")), `${file}: .Values.${path}`).toBe(true);
      for (const [, name] of text.matchAll(/include "([^"]+)"/g)) expect(defined.has(name), `${file}: include "${name}"`).toBe(true);
      if (file === "_helpers.tpl") continue;
      // Every object: kind + the standard labels (directly or through the Deployment helper).
      const kinds = [...text.matchAll(/^kind: /gm)].length;
      const labelled = [...text.matchAll(/include "isthmus\.labels"/g)].length;
      const deployments = [...text.matchAll(/include "isthmus\.deployment"/g)].length;
      expect(labelled + deployments, `${file}: ${kinds} objects`).toBeGreaterThanOrEqual(kinds);
    }
    const labels = read("templates/_helpers.tpl");
    for (const l of [
      "app.kubernetes.io/name",
      "app.kubernetes.io/instance",
      "app.kubernetes.io/version",
      "app.kubernetes.io/managed-by",
      "app.kubernetes.io/part-of",
    ])
      expect(labels).toContain(`${l}:`);
    // Each service runs as its own NATS user, the one its permissions are written for.
    expect(read("templates/_helpers.tpl")).toMatch(/name: NATS_USER\n\s+value: \{\{ \.user \| quote \}\}/);
    for (const [file, component] of [
      ["config-push.yaml", "config-push"],
      ["discovery.yaml", "discovery"],
      ["cert-authority.yaml", "cert-authority"],
      ["pvl-manager.yaml", "pvl-manager"],
    ] as const)
      expect(templates.find(([f]) => f === file)?.[1]).toContain(`"component" "${component}"`);
  });

  const helm = spawnSync("helm", ["version", "--short"], { encoding: "utf8" }).status === 0;
  it.skipIf(!helm).each(examples)("helm template renders %s into valid objects", (file) => {
    const lint = spawnSync("helm", ["lint", chart, "-f", join(root, "deploy/helm/examples", file)], { encoding: "utf8" });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const r = spawnSync("helm", ["template", "isthmus", chart, "-f", join(root, "deploy/helm/examples", file), "--namespace", "isthmus-system"], {
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const docs = r.stdout
      .split(/^---$/m)
      .map((d) => loadYaml<{ kind?: string; metadata?: { labels?: Record<string, string> } } | null>(d))
      .filter((d): d is { kind: string; metadata: { labels: Record<string, string> } } => Boolean(d?.kind));
    expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(["Deployment", "Service", "StatefulSet", "NetworkPolicy", "ClusterRole"]));
    for (const d of docs.filter((x) => x.kind !== "CustomResourceDefinition")) expect(d.metadata.labels["app.kubernetes.io/managed-by"]).toBe("Helm");
  });
});
