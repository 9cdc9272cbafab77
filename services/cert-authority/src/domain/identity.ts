/** Who the caller proved to be; the certificate's SAN is built from this alone. */
export interface ProvenIdentity {
  namespace: string;
  serviceAccount: string;
  /** How it was proven, for the ledger: "k8s:<cluster>", "bootstrap:<id>", "cert:<serial>". */
  via: string;
  cluster?: string;
}
