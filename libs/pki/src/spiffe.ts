const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export function assertTrustDomain(td: string): string {
  if (!TRUST_DOMAIN.test(td)) throw new Error(`invalid trust domain ${JSON.stringify(td)}`);
  return td;
}

/** spiffe://<trust-domain>/ns/<ns>/sa/<sa>, the Istio form of an X.509-SVID id. */
export function spiffeId(id: WorkloadIdentity): string {
  assertTrustDomain(id.trustDomain);
  if (!K8S_NAME.test(id.namespace)) throw new Error(`invalid namespace ${JSON.stringify(id.namespace)}`);
  if (!K8S_NAME.test(id.serviceAccount)) throw new Error(`invalid service account ${JSON.stringify(id.serviceAccount)}`);
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const id = { trustDomain: m[1] as string, namespace: m[2] as string, serviceAccount: m[3] as string };
  try {
    spiffeId(id);
    return id;
  } catch {
    return undefined;
  }
}
