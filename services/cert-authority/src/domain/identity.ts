/** Who the caller proved to be; the certificate's SAN is built from this alone. */
export interface ProvenIdentity {
  namespace: string;
  serviceAccount: string;
  /** How it was proven, for the ledger: "k8s:<cluster>", "bootstrap:<id>", "cert:<serial>". */
  via: string;
  cluster?: string;
  /** Proven by a certificate (renewal): that certificate's lifetime, which the new one may not exceed. */
  renewsLifetimeMs?: number;
  /** Gives back what proving it used up (a single-use bootstrap token) when nothing was issued. */
  giveBack?: () => Promise<void>;
}
