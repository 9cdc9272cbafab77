import { KINDS, type KindInfo, kindByKey, kindOf } from "./kinds.js";
import { hasErrors, type Message, message } from "./messages.js";
import { type ConfigObject, resourceName } from "./resource.js";
import { type SupportTable, unsupportedFields } from "./support.js";
import { validateObject } from "./validate.js";
import { nameProblem, namespaceProblem } from "./values.js";

export interface AdmissionOptions {
  /** What the consumers honour of each kind; kinds absent from it are stored but have no effect. */
  support: SupportTable;
  /** The namespace of namespaced objects that do not say (kubectl's `-n`, default `default`). */
  defaultNamespace?: string;
  /** Where the object came from, for messages. */
  origin?: string;
}

export interface Admission {
  /** The object as it is stored, when admission found no error. */
  object?: ConfigObject;
  info?: KindInfo;
  /** Errors refuse the object; warnings and notes travel with it. */
  messages: Message[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every((x) => typeof x === "string");

/**
 * The one admission path of every configuration source (a config cluster, `isthmus
 * apply`, a watched directory): the kind must be one Isthmus knows, in a served version;
 * the object must pass its kind's published schema and Istio's own value rules (durations,
 * RE2 regexes, ...). What the consumers do not honour is said, field by field.
 */
export async function admit(raw: Record<string, unknown>, o: AdmissionOptions): Promise<Admission> {
  const messages: Message[] = [];
  const apiVersion = raw.apiVersion;
  const kindName = raw.kind;
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const label = `${typeof kindName === "string" ? kindName : "(no kind)"} ${typeof meta.name === "string" ? meta.name : "(no name)"}`;
  if (typeof apiVersion !== "string" || typeof kindName !== "string") {
    return { messages: [message("UnknownKind", label, "apiVersion and kind are required", undefined, o.origin)] };
  }
  const found = kindOf(apiVersion, kindName);
  if (!found) {
    const sameName = KINDS.filter((k) => k.kind === kindName).map((k) => k.group);
    const hint = sameName.length
      ? ` (${kindName} is known in ${sameName.join(", ")})`
      : "; Isthmus configuration takes Istio (networking, security, telemetry, extensions), Gateway API and ASM kinds — Services and workloads belong to discovery's clusters";
    return { messages: [message("UnknownKind", label, `${apiVersion} ${kindName} is not a configuration kind Isthmus knows${hint}`, undefined, o.origin)] };
  }
  const { info, version } = found;
  const check = info.versions[version];
  const name = meta.name;
  let namespace = info.namespaced ? (meta.namespace ?? o.defaultNamespace ?? "default") : "";
  const resource = resourceName(info, String(namespace), String(name ?? "(no name)"));
  if (!check) {
    messages.push(
      message(
        "SchemaValidationError",
        resource,
        `${apiVersion} is not served for ${info.kind}; use ${Object.keys(info.versions)
          .map((v) => `${info.group}/${v}`)
          .join(", ")}`,
        "apiVersion",
        o.origin,
      ),
    );
    return { info, messages };
  }
  const np = nameProblem(name);
  if (np) messages.push(message("InvalidMetadata", resource, np, "metadata.name", o.origin));
  if (info.namespaced) {
    const nsp = namespaceProblem(namespace);
    if (nsp) messages.push(message("InvalidMetadata", resource, nsp, "metadata.namespace", o.origin));
  } else if (meta.namespace !== undefined) {
    messages.push(
      message(
        "InvalidMetadata",
        resource,
        `${info.kind} is cluster-scoped: metadata.namespace ${JSON.stringify(meta.namespace)} is ignored`,
        "metadata.namespace",
        o.origin,
      ),
    );
    messages[messages.length - 1] = { ...(messages[messages.length - 1] as Message), level: "Warning" };
    namespace = "";
  }
  for (const f of ["labels", "annotations"] as const) {
    if (meta[f] !== undefined && !stringMap(meta[f]))
      messages.push(message("InvalidMetadata", resource, `metadata.${f} must map strings to strings`, `metadata.${f}`, o.origin));
  }
  const spec = raw.spec === undefined ? {} : raw.spec;
  if (!isRecord(spec)) {
    messages.push(message("SchemaValidationError", resource, "spec must be an object", "spec", o.origin));
    return { info, messages };
  }
  const normalized = { ...raw, metadata: { ...meta, ...(info.namespaced ? { namespace } : {}) }, spec };
  for (const i of await check(normalized))
    messages.push(message("SchemaValidationError", resource, i.path ? `${i.path}: ${i.message}` : i.message, i.path || undefined, o.origin));
  messages.push(...validateObject(info.key, normalized, resource, o.origin));
  const support = o.support[info.key];
  if (!support) {
    messages.push(
      message("UnsupportedKind", resource, `${info.kind} is stored but not translated by Isthmus yet: it has no effect on any proxy`, undefined, o.origin),
    );
  } else {
    if (support.note) messages.push({ ...message("UnsupportedKind", resource, support.note, undefined, o.origin), level: "Info" });
    messages.push(...unsupportedFields({ spec }, support, resource, o.origin));
  }
  if (hasErrors(messages)) return { info, messages };
  const object: ConfigObject = {
    apiVersion,
    kind: info.key,
    namespace: String(namespace),
    name: String(name),
    labels: stringMap(meta.labels) ? meta.labels : {},
    ...(stringMap(meta.annotations) && Object.keys(meta.annotations).length ? { annotations: meta.annotations } : {}),
    spec,
    ...(typeof meta.generation === "number" ? { generation: meta.generation } : {}),
  };
  return { object, info, messages };
}

/** The manifest form of a stored object (what `isthmus get -o yaml` prints and admission reads). */
export function toManifest(o: ConfigObject): Record<string, unknown> {
  const info = kindByKey(o.kind);
  return {
    apiVersion: o.apiVersion,
    kind: info?.kind ?? o.kind,
    metadata: {
      name: o.name,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(Object.keys(o.labels).length ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.generation !== undefined ? { generation: o.generation } : {}),
    },
    spec: o.spec,
  };
}

/**
 * Admission again, for an object read back from the CONFIG stream: a consumer never
 * translates what admission would refuse, whoever managed to publish it.
 */
export function readmit(o: ConfigObject, support: SupportTable): Promise<Admission> {
  return admit(toManifest(o), { support, defaultNamespace: o.namespace });
}
