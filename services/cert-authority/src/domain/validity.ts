import { CaError } from "./errors.js";

export interface ValidityPolicy {
  defaultTtlMs: number;
  maxTtlMs: number;
  /** Backdating for clock skew between the CA and relying parties. */
  backdateMs: number;
}

export const DEFAULT_VALIDITY: ValidityPolicy = { defaultTtlMs: 24 * 3_600_000, maxTtlMs: 90 * 24 * 3_600_000, backdateMs: 60_000 };

/**
 * The certificate's window. 0 (or absent) asks for the default. More than the maximum
 * is refused, as Istio's CA does, rather than silently shortened: the caller asked for
 * something it will not get. Never past the issuer's own expiry.
 *
 * A renewal (the caller proved itself with a certificate of this mesh) never gets a
 * longer lifetime than the certificate it presented: its default is that lifetime (if
 * shorter than the mesh's default), and asking for more is refused. Otherwise a
 * short-lived certificate, or a stolen one, would turn itself into a long-lived one.
 */
export function validityWindow(
  requestedSeconds: number,
  p: ValidityPolicy,
  issuerNotAfter: Date,
  o: { now?: Date; renewsLifetimeMs?: number | undefined } = {},
): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(requestedSeconds) || requestedSeconds < 0)
    throw new CaError("INVALID_ARGUMENT", `validity_duration must be a non-negative number of seconds, got ${requestedSeconds}`);
  const now = o.now ?? new Date();
  const renewal = o.renewsLifetimeMs;
  const ttl = requestedSeconds === 0 ? Math.min(p.defaultTtlMs, renewal ?? Number.POSITIVE_INFINITY) : requestedSeconds * 1000;
  if (ttl > p.maxTtlMs) {
    throw new CaError("INVALID_ARGUMENT", `requested validity ${requestedSeconds}s exceeds the maximum of ${Math.floor(p.maxTtlMs / 1000)}s`);
  }
  if (renewal !== undefined && ttl > renewal) {
    throw new CaError(
      "INVALID_ARGUMENT",
      `a renewal cannot outlive the certificate presented: requested ${requestedSeconds}s, that certificate's lifetime is ${Math.floor(renewal / 1000)}s`,
    );
  }
  const notBefore = new Date(now.getTime() - p.backdateMs);
  const notAfter = new Date(Math.min(now.getTime() + ttl, issuerNotAfter.getTime()));
  return { notBefore, notAfter };
}
