import { KubeApiStandIn } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeConfigFor, reviewToken } from "../src/index.js";

const api = new KubeApiStandIn("cluster-1");
beforeAll(() => api.start());
afterAll(() => api.stop());

describe("TokenReview through @kubernetes/client-node against the stand-in", () => {
  it("names the service account of a valid token, and says why others are refused", async () => {
    const kc = kubeConfigFor({ kubeconfig: api.kubeconfig() });
    const good = api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x" });
    expect(await reviewToken(kc, good, ["istio-ca"])).toMatchObject({ authenticated: true, namespace: "a", serviceAccount: "x", audiences: ["istio-ca"] });
    const otherAudience = api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x", audiences: ["vault"] });
    expect(await reviewToken(kc, otherAudience, ["istio-ca"])).toMatchObject({ authenticated: false, error: expect.stringMatching(/audiences/) });
    const expired = api.issueServiceAccountToken({ namespace: "a", serviceAccount: "x", ttlSeconds: -1 });
    expect(await reviewToken(kc, expired, ["istio-ca"])).toMatchObject({ authenticated: false, error: expect.stringMatching(/expired/) });
    expect(await reviewToken(kc, "forged.token", ["istio-ca"])).toMatchObject({ authenticated: false, error: expect.stringMatching(/invalid bearer token/) });
  });

  it("refuses clients without the cluster's credentials", async () => {
    const kc = kubeConfigFor({ kubeconfig: api.kubeconfig().replace(api.adminToken, "wrong") });
    await expect(reviewToken(kc, "t", ["istio-ca"])).rejects.toThrow(/401|Unauthorized/);
  });
});
