import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";

export type TokenReviewResult =
  | { authenticated: true; username: string; audiences: string[]; namespace?: string; serviceAccount?: string }
  | { authenticated: false; error: string };

const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * Ask the cluster who a bearer token belongs to (TokenReview), for the given audiences.
 * Throws only when the API server cannot be asked; a rejected token is a result.
 */
export async function reviewToken(kc: KubeConfig, token: string, audiences: string[]): Promise<TokenReviewResult> {
  const api = kc.makeApiClient(AuthenticationV1Api);
  const r = await api.createTokenReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences } } });
  const st = r.status;
  if (!st?.authenticated) return { authenticated: false, error: st?.error ?? "token not authenticated" };
  const username = st.user?.username ?? "";
  const m = SA_USER.exec(username);
  const out: TokenReviewResult = { authenticated: true, username, audiences: st.audiences ?? [] };
  if (m) {
    out.namespace = m[1] as string;
    out.serviceAccount = m[2] as string;
  }
  return out;
}
