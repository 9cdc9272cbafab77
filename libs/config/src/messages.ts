/**
 * Analysis and admission messages, as `istioctl analyze` prints them: a code, a severity,
 * the object and the field path. Istio's codes where Istio has the same check (see
 * istio.io/latest/docs/reference/config/analysis), Isthmus's own (ISM) otherwise.
 */
export type Level = "Error" | "Warning" | "Info";

export const MESSAGE_TYPES = {
  ReferencedResourceNotFound: { code: "IST0101", level: "Error" },
  SchemaValidationError: { code: "IST0106", level: "Error" },
  ConflictingMeshGatewayVirtualServiceHosts: { code: "IST0109", level: "Error" },
  MultipleSidecarsWithoutWorkloadSelectors: { code: "IST0111", level: "Error" },
  VirtualServiceDestinationPortSelectorRequired: { code: "IST0112", level: "Error" },
  ConflictingPeerAuthentications: { code: "ISM0011", level: "Warning" },
  UnknownKind: { code: "ISM0001", level: "Error" },
  UnsupportedKind: { code: "ISM0002", level: "Warning" },
  UnsupportedField: { code: "ISM0003", level: "Warning" },
  UnsupportedValue: { code: "ISM0004", level: "Warning" },
  InvalidMetadata: { code: "ISM0005", level: "Error" },
  InvalidRegex: { code: "ISM0006", level: "Error" },
  InvalidDuration: { code: "ISM0007", level: "Error" },
  WeightsDoNotAddUp: { code: "ISM0008", level: "Warning" },
  MultipleDestinationRulesForHost: { code: "ISM0009", level: "Info" },
  TranslationSkipped: { code: "ISM0010", level: "Error" },
  UnknownSubset: { code: "ISM0012", level: "Error" },
  InvalidValue: { code: "ISM0013", level: "Error" },
} as const satisfies Record<string, { code: string; level: Level }>;

export type MessageType = keyof typeof MESSAGE_TYPES;

export interface Message {
  code: string;
  name: MessageType;
  level: Level;
  message: string;
  /** `Kind namespace/name` (or `Kind name` when cluster-scoped). */
  resource: string;
  /** The field, e.g. `spec.http[0].route[1].destination.host`. */
  path?: string;
  /** Where the object came from (`file.yaml#2`, a config cluster, ...), when known. */
  origin?: string;
}

export function message(name: MessageType, resource: string, text: string, path?: string, origin?: string): Message {
  const t = MESSAGE_TYPES[name];
  return { code: t.code, name, level: t.level, message: text, resource, ...(path ? { path } : {}), ...(origin ? { origin } : {}) };
}

/** istioctl's line: `Error [IST0101] (VirtualService default/reviews spec.http[0]) Referenced host not found: "x"`. */
export function formatMessage(m: Message): string {
  const where = [m.resource, m.path].filter(Boolean).join(" ");
  return `${m.level} [${m.code}] (${where})${m.origin ? ` ${m.origin}` : ""} ${m.message}`;
}

export const hasErrors = (ms: readonly Message[]) => ms.some((m) => m.level === "Error");
