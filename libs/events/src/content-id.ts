import { createHash } from "node:crypto";
import { canonicalJson } from "./registry.js";

/**
 * Message id for a state snapshot: equal states get equal ids, so JetStream's duplicate
 * window drops republished unchanged state and replicas publishing the same state agree.
 */
export function contentId(type: string, subject: string, data: unknown): string {
  return createHash("sha256").update(type).update("\0").update(subject).update("\0").update(canonicalJson(data)).digest("base64url");
}
