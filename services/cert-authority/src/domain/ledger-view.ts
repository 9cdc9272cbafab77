/** A certificate of the ledger as an operator sees it. */
export type CertificateStatus = "valid" | "expiring" | "expired" | "revoked";

export interface LedgerRow {
  serial: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  requester: string;
  cluster: string | null;
  issuerSerial: string;
  issuedAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

/** Revoked wins over everything; "expiring" means not yet expired and due within `expiringWithinMs`. */
export function certificateStatus(r: Pick<LedgerRow, "notAfter" | "revokedAt">, now: Date, expiringWithinMs: number): CertificateStatus {
  if (r.revokedAt) return "revoked";
  const left = r.notAfter.getTime() - now.getTime();
  if (left <= 0) return "expired";
  return left <= expiringWithinMs ? "expiring" : "valid";
}
