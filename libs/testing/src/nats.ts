import { randomBytes } from "node:crypto";

/** The NATS the test run uses (see global-setup). */
export function testNatsUrl(): string {
  const url = process.env.NATS_URL;
  if (!url) throw new Error("no NATS_URL: run tests through vitest (its global setup provides one)");
  return url;
}

/** A mesh id of the test's own, so tests sharing one NATS never see each other's streams. */
export function uniqueMeshId(prefix = "t"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}
