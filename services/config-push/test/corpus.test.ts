import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { admit, type ConfigObject, type Message, parseManifests, SupportMatcher } from "@isthmus/config";
import { describe, expect, it } from "vitest";
import { MESH_SUPPORT, MeshModel, translate } from "../src/index.js";

const dir = fileURLToPath(new URL("./corpus/", import.meta.url));
const files = ["networking.yaml", "security.yaml", "gateway-asm.yaml"];

/** Every leaf field of an object's spec, as normalized and concrete paths. */
function leaves(v: unknown, norm: string[] = ["spec"], concrete = "spec"): Array<{ norm: string[]; concrete: string }> {
  if (Array.isArray(v)) {
    const last = norm[norm.length - 1] as string;
    return v.flatMap((x, i) => leaves(x, [...norm.slice(0, -1), `${last}[]`], `${concrete}[${i}]`));
  }
  if (v !== null && typeof v === "object") {
    const e = Object.entries(v);
    if (!e.length) return [{ norm, concrete }];
    return e.flatMap(([k, x]) => leaves(x, [...norm, k], /^[A-Za-z_$][\w$]*$/.test(k) ? `${concrete}.${k}` : `${concrete}[${JSON.stringify(k)}]`));
  }
  return [{ norm, concrete }];
}

describe("a corpus of Istio-format configuration (every kind, the fields of Istio's reference docs)", () => {
  const docs = files.flatMap((f) => parseManifests(readFileSync(join(dir, f), "utf8"), f).docs);
  const table: Array<{ kind: string; honoured: number; reported: number }> = [];

  it("every document is admitted, and every field in it is either honoured or reported by name; nothing crashes", async () => {
    expect(docs.length).toBeGreaterThanOrEqual(30);
    const admitted: ConfigObject[] = [];
    for (const d of docs) {
      const a = await admit(d.object, { support: MESH_SUPPORT, origin: d.origin });
      expect(
        a.messages.filter((m) => m.level === "Error"),
        `${d.origin}: ${JSON.stringify(a.messages)}`,
      ).toEqual([]);
      const obj = a.object as ConfigObject;
      admitted.push(obj);
      const support = MESH_SUPPORT[obj.kind];
      const wholeKind = a.messages.some((m) => m.name === "UnsupportedKind" && m.level === "Warning");
      const reportedAt = (p: string) =>
        a.messages.some((m: Message) => m.path !== undefined && (p === m.path || p.startsWith(`${m.path}.`) || p.startsWith(`${m.path}[`)));
      const matcher = support ? new SupportMatcher(support) : undefined;
      let honoured = 0;
      let reported = 0;
      for (const leaf of leaves(obj.spec)) {
        if (wholeKind || reportedAt(leaf.concrete)) reported++;
        else if (matcher?.honoured(leaf.norm)) honoured++;
        else throw new Error(`${d.origin}: ${leaf.concrete} is neither honoured nor reported`);
      }
      const row = table.find((r) => r.kind === obj.kind) ?? { kind: obj.kind, honoured: 0, reported: 0 };
      row.honoured += honoured;
      row.reported += reported;
      if (!table.includes(row)) table.push(row);
    }
    // And the translation takes all of it without failing the mesh.
    const model = new MeshModel();
    admitted.forEach((o, i) => {
      model.upsertConfig(`c${i}`, o);
    });
    for (const v of [
      { flavour: "grpc" as const, network: "", inbound: [] },
      { flavour: "envoy" as const, network: "n1", inbound: [] },
    ])
      expect(() => translate(model, v)).not.toThrow();
    console.log(
      `\nfield coverage of the corpus (leaf fields):\n${table.map((r) => `  ${r.kind.padEnd(45)} honoured ${String(r.honoured).padStart(3)}  reported ${String(r.reported).padStart(3)}`).join("\n")}`,
    );
  });
});
