/** Keys whose values are secrets wherever they appear (Envoy's SDS secrets, credentials). */
const SECRET_KEYS = /^(private_?key|privateKey|password|passphrase|token|secret_?key)$/i;

/**
 * A copy with every secret value replaced by "[redacted]": what the console may show of a
 * proxy's config dump, whose SDS part carries the workload's private key.
 */
export function redactSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactSecrets);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, SECRET_KEYS.test(k) ? "[redacted]" : redactSecrets(x)]));
  }
  if (typeof v === "string" && v.includes("PRIVATE KEY-----")) return "[redacted]";
  return v;
}
