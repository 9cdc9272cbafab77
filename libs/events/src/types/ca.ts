import { z } from "zod";
import { defineEvent } from "../registry.js";
import { isoTime } from "./common.js";

const pem = z.string().startsWith("-----BEGIN CERTIFICATE-----");

export const trustBundleUpdatedV1 = defineEvent({
  type: "io.isthmus.ca.trust_bundle_updated.v1",
  domain: "ca",
  kind: "state",
  description: "The whole trust bundle of a trust domain: every root a workload must accept.",
  path: ["trust-bundle", ":trustDomain"],
  schema: z.object({
    trustDomain: z.string().min(1),
    roots: z.array(pem).min(1),
    version: z.number().int().nonnegative(),
  }),
  keyOf: (d) => ({ trustDomain: d.trustDomain }),
});

export const certificateIssuedV1 = defineEvent({
  type: "io.isthmus.ca.certificate_issued.v1",
  domain: "ca",
  kind: "fact",
  description: "A workload certificate was issued. Carries no key material.",
  path: ["certificate", "issued", ":serial"],
  schema: z.object({
    serial: z.string().regex(/^[0-9a-f]+$/),
    spiffeId: z.string().startsWith("spiffe://"),
    notBefore: isoTime,
    notAfter: isoTime,
    issuer: z.string(),
    requester: z.string(),
    cluster: z.string().optional(),
  }),
  keyOf: (d) => ({ serial: d.serial }),
});

export const certificateRevokedV1 = defineEvent({
  type: "io.isthmus.ca.certificate_revoked.v1",
  domain: "ca",
  kind: "fact",
  description: "A certificate was revoked before its expiry.",
  path: ["certificate", "revoked", ":serial"],
  schema: z.object({ serial: z.string().regex(/^[0-9a-f]+$/), reason: z.string(), revokedAt: isoTime }),
  keyOf: (d) => ({ serial: d.serial }),
});

export const intermediateRotatedV1 = defineEvent({
  type: "io.isthmus.ca.intermediate_rotated.v1",
  domain: "ca",
  kind: "state",
  description: "The mesh's issuing intermediate changed.",
  path: ["intermediate", ":mesh"],
  schema: z.object({
    mesh: z.string().min(1),
    serial: z.string(),
    notAfter: isoTime,
    rootFingerprint: z.string(),
    certificate: pem,
  }),
  keyOf: (d) => ({ mesh: d.mesh }),
});
