/** One way a resource breaks what Envoy enforces: which resource, where in it, which rule. */
export interface Violation {
  /** `<Type> <name>`, e.g. `Cluster outbound|80||a.default.svc.cluster.local`. */
  resource: string;
  /** The field path inside the resource; unpacked Any values show their type: `filters[0].typed_config<HttpConnectionManager>.http_filters`. */
  path: string;
  /** The PGV rule (`string.min_len`, `duration.gt`, `oneof.required`, ...) or the Envoy code rule (`envoy.*`). */
  rule: string;
  message: string;
  /** "warning": Envoy accepts it but says so (a deprecated field); "error": Envoy refuses the resource. */
  severity: "error" | "warning";
}

export function formatViolation(v: Violation): string {
  return `${v.severity === "warning" ? "warning: " : ""}${v.resource}: ${v.path || "(resource)"}: ${v.message} [${v.rule}]`;
}
