import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscoveryHarness } from "./harness.js";
import { k8s } from "./objects.js";

// Issue 19 (manifest directories) and issue 11 item 9: nothing in a manifest directory stops
// discovery, at run time or at start; a file that does not parse keeps its last good state;
// a file deleted and put back comes back; manifests are read as kubectl reads them.
let h: DiscoveryHarness;
let dir: string;
const warnings: Array<{ object?: string; reason?: string }> = [];
const log = { debug() {}, info() {}, error() {}, warn: (o: object) => void warnings.push(o as { object?: string; reason?: string }) };
beforeEach(() => {
  h = new DiscoveryHarness();
  dir = mkdtempSync(join(tmpdir(), "manifests-"));
  warnings.length = 0;
});
afterEach(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const docs = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join("\n---\n");
const service = (name: string, ip: string) => docs([k8s.service(name), k8s.slice(name, name, "default", [{ ip }])]);
const reasonFor = (object: RegExp) => warnings.find((w) => object.test(w.object ?? ""))?.reason;

describe("a manifest directory", () => {
  it("is read like kubectl: empty and comment-only documents, leading and trailing ---, List kinds", async () => {
    writeFileSync(join(dir, "a.yaml"), `---\n# just a comment\n---\n${service("a", "10.0.0.1")}\n---\n`);
    writeFileSync(
      join(dir, "list.yaml"),
      JSON.stringify({ apiVersion: "v1", kind: "List", items: [k8s.service("b"), null, k8s.slice("b", "b", "default", [{ ip: "10.0.0.2" }])] }),
    );
    writeFileSync(join(dir, "typed-list.yaml"), `apiVersion: v1\nkind: ServiceList\nitems:\n  - ${JSON.stringify(k8s.service("c"))}\n`);
    writeFileSync(join(dir, "comments.yaml"), "# nothing here yet\n");
    await h.manifestCluster("local", dir);
    await h.start({ log });
    await h.until(async () => (await h.states()).size === 3, 10_000, "three services");
    expect((await h.state("local/default/a"))?.endpoints.map((e) => e.address)).toEqual(["10.0.0.1"]);
    expect((await h.state("local/default/b"))?.endpoints.map((e) => e.address)).toEqual(["10.0.0.2"]);
    expect(reasonFor(/list\.yaml document 1 item 2/)).toBe("not an object (null)");
  });

  it("with a symlink loop, a dangling symlink, a FIFO, objects without metadata and a null list item: serves the rest, at run time and at start", async () => {
    writeFileSync(join(dir, "good.yaml"), service("good", "10.0.0.1"));
    mkdirSync(join(dir, "sub"));
    symlinkSync(dir, join(dir, "sub", "loop"));
    symlinkSync(join(dir, "nowhere.yaml"), join(dir, "dangling.yaml"));
    execFileSync("mkfifo", [join(dir, "pipe.yaml")]);
    writeFileSync(
      join(dir, "bad.yaml"),
      docs([
        { apiVersion: "v1", kind: "Service" },
        { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: null },
        { apiVersion: "v1", kind: "Pod" },
        { apiVersion: "v1", kind: "Node", metadata: { labels: "x" } },
        { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry" },
        { apiVersion: "v1", kind: "Service", metadata: { name: "odd" }, spec: { ports: 5 } },
        {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { name: "nulls", labels: { "kubernetes.io/service-name": "good" } },
          addressType: "IPv4",
          endpoints: [null],
        },
        "just a string",
      ]),
    );
    await h.manifestCluster("local", dir);
    await h.start({ log });
    await h.until(async () => (await h.state("local/default/good"))?.endpoints.length === 1, 10_000, "the good service");
    expect(reasonFor(/pipe\.yaml/)).toMatch(/not a regular file/);
    expect(reasonFor(/dangling\.yaml/)).toBe("dangling symlink");
    expect(warnings.some((w) => /symlink loop/.test(w.reason ?? ""))).toBe(true);
    expect(reasonFor(/bad\.yaml document 1$/)).toBe("Service without metadata");
    expect(reasonFor(/bad\.yaml document 2$/)).toBe("EndpointSlice without metadata");
    expect(reasonFor(/bad\.yaml document 4$/)).toMatch(/metadata\.labels is not a map of strings|without metadata\.name/);
    expect(reasonFor(/\(Service odd\)/)).toMatch(/^spec\.ports: .*expected array/i);
    expect(reasonFor(/\(EndpointSlice nulls\)/)).toMatch(/^endpoints\.0: .*expected object/i);
    expect(reasonFor(/bad\.yaml document 8$/)).toBe("not an object (string)");
    // And again from a fresh start over the same directory.
    await h.d.stop();
    await h.start({ log });
    await h.until(async () => (await h.state("local/default/good"))?.endpoints.length === 1, 10_000, "the good service after a restart");
    const health = await h.d.ready();
    expect(health).toBe(true);
  });

  it("keeps a file's last good state while it is half-written, truncated, oversized or ends in ---", async () => {
    writeFileSync(join(dir, "a.yaml"), service("a", "10.0.0.1"));
    await h.manifestCluster("local", dir);
    await h.start({ log });
    await h.until(async () => (await h.state("local/default/a"))?.endpoints.length === 1, 10_000, "a");
    // Each bad version, then a marker file: once the marker is published the bad version was read too.
    const bad = [
      `${service("a", "10.0.0.1")}\n---\nkind: [unclosed`,
      "",
      `${service("a", "10.0.0.1")}\n---\n${"x".repeat(5 * 1024 * 1024)}`,
      `${service("a", "10.0.0.1")}\n---\n`,
    ];
    for (const [i, text] of bad.entries()) {
      writeFileSync(join(dir, "a.yaml"), text);
      writeFileSync(join(dir, `marker-${i}.yaml`), service(`marker-${i}`, "10.0.1.1"));
      await h.until(async () => (await h.states()).has(`local/default/marker-${i}`), 10_000, `marker ${i}`);
      expect(
        (await h.state("local/default/a"))?.endpoints.map((e) => e.address),
        `version ${i}`,
      ).toEqual(["10.0.0.1"]);
    }
    expect(warnings.some((w) => /a\.yaml/.test(w.object ?? "") && /keeping its last good version/.test(w.reason ?? ""))).toBe(true);
    expect(warnings.some((w) => /more than the limit/.test(w.reason ?? ""))).toBe(true);
    // A good new version is taken.
    writeFileSync(join(dir, "a.yaml"), service("a", "10.0.0.9"));
    await h.until(async () => (await h.state("local/default/a"))?.endpoints[0]?.address === "10.0.0.9", 10_000, "a's new version");
  });

  it("a file deleted and put back unchanged comes back", async () => {
    const text = service("a", "10.0.0.1");
    writeFileSync(join(dir, "a.yaml"), text);
    await h.manifestCluster("local", dir);
    await h.start({ log });
    await h.until(async () => (await h.states()).has("local/default/a"), 10_000, "a");
    rmSync(join(dir, "a.yaml"));
    await h.until(async () => !(await h.states()).has("local/default/a"), 10_000, "a deleted");
    writeFileSync(join(dir, "a.yaml"), text);
    await h.until(async () => (await h.states()).has("local/default/a"), 10_000, "a back");
  });
});
