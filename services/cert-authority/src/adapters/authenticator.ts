import { createHash, timingSafeEqual, X509Certificate } from "node:crypto";
import { reviewToken } from "@isthmus/k8s";
import { parseSpiffeId } from "@isthmus/pki";
import type { Store } from "@isthmus/store";
import type { KubeConfig } from "@kubernetes/client-node";
import { and, eq, sql } from "drizzle-orm";
import { BOOTSTRAP_PREFIX, hashSecret } from "../admin.js";
import { CaError } from "../domain/errors.js";
import type { ProvenIdentity } from "../domain/identity.js";
import { bootstrapTokens, certificates } from "./schema.js";

export interface Credentials {
  /** From `authorization: Bearer <token>`. */
  bearer?: string | undefined;
  /** From the `clusterid` metadata: which cluster's API server vouches for the token. */
  clusterId?: string | undefined;
  /** The client certificate presented over TLS (renewal). */
  peerCertificate?: Buffer | undefined;
}

export interface AuthenticatorOptions {
  trustDomain: string;
  audiences: string[];
  clusters: Map<string, KubeConfig>;
  defaultCluster?: string | undefined;
  store: Store;
  /** Issuing certificates of this mesh, current and past. */
  issuers: () => X509Certificate[];
  /** How far issued certificates are backdated: not part of the lifetime a renewal keeps. */
  backdateMs: number;
  /** The mesh's default workload certificate lifetime. */
  defaultTtlMs: number;
  /** How long a successful TokenReview is trusted again without asking. */
  reviewCacheMs?: number;
}

/**
 * Turns credentials into a proven identity: a Kubernetes service-account token checked
 * by TokenReview against the cluster it names, a bootstrap token, or a client
 * certificate this mesh issued.
 */
export class Authenticator {
  private readonly reviews = new Map<string, { id: ProvenIdentity; until: number }>();

  constructor(private readonly o: AuthenticatorOptions) {}

  async authenticate(c: Credentials): Promise<ProvenIdentity> {
    if (c.bearer) {
      return c.bearer.startsWith(`${BOOTSTRAP_PREFIX}.`) ? this.bootstrap(c.bearer) : this.kubernetes(c.bearer, c.clusterId);
    }
    if (c.peerCertificate) return this.clientCertificate(c.peerCertificate);
    throw new CaError(
      "UNAUTHENTICATED",
      "no credentials: send a Kubernetes service-account token (authorization: Bearer …) or connect with a client certificate issued by this mesh",
    );
  }

  private async kubernetes(token: string, clusterId: string | undefined): Promise<ProvenIdentity> {
    const cluster = clusterId ?? this.o.defaultCluster;
    if (!cluster) throw new CaError("UNAUTHENTICATED", "the clusterid metadata is required: it names the cluster whose API server checks the token");
    const kc = this.o.clusters.get(cluster);
    if (!kc) throw new CaError("UNAUTHENTICATED", `unknown cluster ${JSON.stringify(cluster)}: not registered with this certificate authority`);
    const cacheKey = `${cluster}\0${createHash("sha256").update(token).digest("base64")}`;
    const hit = this.reviews.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.id;
    let r: Awaited<ReturnType<typeof reviewToken>>;
    try {
      r = await reviewToken(kc, token, this.o.audiences);
    } catch (err) {
      throw new CaError("UNAVAILABLE", `cannot reach the API server of cluster ${cluster} to review the token: ${(err as Error).message}`);
    }
    if (!r.authenticated) throw new CaError("UNAUTHENTICATED", `token rejected by cluster ${cluster}: ${r.error}`);
    if (!r.namespace || !r.serviceAccount) throw new CaError("PERMISSION_DENIED", `${r.username} is not a service account; only workloads get certificates`);
    const id: ProvenIdentity = { namespace: r.namespace, serviceAccount: r.serviceAccount, via: `k8s:${cluster}`, cluster };
    if (this.reviews.size > 50_000) this.reviews.clear();
    this.reviews.set(cacheKey, { id, until: Date.now() + (this.o.reviewCacheMs ?? 30_000) });
    return id;
  }

  private async bootstrap(token: string): Promise<ProvenIdentity> {
    const [, id, secret] = token.split(".");
    if (!id || !secret) throw new CaError("UNAUTHENTICATED", "malformed bootstrap token");
    const [row] = await this.o.store.db.select().from(bootstrapTokens).where(eq(bootstrapTokens.id, id));
    const want = Buffer.from(row?.secretHash ?? "0".repeat(64), "hex");
    const got = Buffer.from(hashSecret(secret), "hex");
    if (!row || !timingSafeEqual(want, got)) throw new CaError("UNAUTHENTICATED", "unknown or invalid bootstrap token");
    if (row.expiresAt.getTime() <= Date.now()) throw new CaError("UNAUTHENTICATED", "bootstrap token has expired");
    // Single use, as SPIRE's join tokens: claimed atomically here (of two requests racing
    // with one token, one wins), given back if nothing is issued with it. Once enrolled, a
    // workload renews with the certificate it obtained.
    const claimed = await this.o.store.db
      .update(bootstrapTokens)
      .set({ uses: sql`${bootstrapTokens.uses} + 1` })
      .where(and(eq(bootstrapTokens.id, id), eq(bootstrapTokens.uses, 0)))
      .returning({ id: bootstrapTokens.id });
    if (!claimed.length)
      throw new CaError(
        "UNAUTHENTICATED",
        "bootstrap token has already been used: a bootstrap token obtains one certificate; renew with that certificate or create a new token",
      );
    const giveBack = async () => {
      await this.o.store.db
        .update(bootstrapTokens)
        .set({ uses: sql`${bootstrapTokens.uses} - 1` })
        .where(and(eq(bootstrapTokens.id, id), eq(bootstrapTokens.uses, 1)));
    };
    return { namespace: row.namespace, serviceAccount: row.serviceAccount, via: `bootstrap:${id}`, giveBack };
  }

  private async clientCertificate(der: Buffer): Promise<ProvenIdentity> {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      throw new CaError("UNAUTHENTICATED", "the client certificate cannot be parsed");
    }
    const now = Date.now();
    if (new Date(cert.validTo).getTime() < now || new Date(cert.validFrom).getTime() > now)
      throw new CaError("UNAUTHENTICATED", "the client certificate is not valid now");
    const signedBy = this.o.issuers().find((i) => cert.checkIssued(i) && cert.verify(i.publicKey));
    if (!signedBy) throw new CaError("UNAUTHENTICATED", "the client certificate was not issued by this mesh");
    const uris = (cert.subjectAltName ?? "").split(", ").filter((s) => s.startsWith("URI:"));
    const id = uris.length === 1 ? parseSpiffeId((uris[0] as string).slice(4)) : undefined;
    if (!id || id.trustDomain !== this.o.trustDomain)
      throw new CaError("UNAUTHENTICATED", `the client certificate has no SPIFFE id of trust domain ${this.o.trustDomain}`);
    const serial = cert.serialNumber.toLowerCase();
    const [row] = await this.o.store.db.select({ revokedAt: certificates.revokedAt }).from(certificates).where(eq(certificates.serial, serial));
    if (row?.revokedAt) throw new CaError("UNAUTHENTICATED", "the client certificate has been revoked");
    // The lifetime it was granted; one cut short by its issuer's expiry (before a rotation)
    // was granted the mesh's default.
    const cutByIssuer = new Date(cert.validTo).getTime() >= new Date(signedBy.validTo).getTime() - 1_000;
    const lifetimeMs = new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime() - this.o.backdateMs;
    return {
      namespace: id.namespace,
      serviceAccount: id.serviceAccount,
      via: `cert:${serial}`,
      renewsLifetimeMs: cutByIssuer ? this.o.defaultTtlMs : Math.max(1_000, lifetimeMs),
    };
  }
}
