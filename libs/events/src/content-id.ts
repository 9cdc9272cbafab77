import { createHash } from "node:crypto";
import { canonicalJson } from "./registry.js";

/**
 * Message id for a state snapshot: equal states get equal ids, so JetStream's duplicate
 * window drops republished unchanged state and replicas publishing the same state agree.
 */
export function contentId(type: string, subject: string, data: unknown): string {
  return createHash("sha256").update(type).update("\0").update(subject).update("\0").update(canonicalJson(data)).digest("base64url");
}

/**
 * Message id for a state transition: the new content chained to the id of the message it
 * replaces. Equal content alone would collide when a state returns to an earlier value
 * (A -> B -> A) inside the duplicate window and the server would drop the change; the
 * chain keeps every transition distinct while two replicas computing the same transition
 * from the same previous message still agree, so one of them is dropped.
 */
export function transitionId(previousMsgId: string | undefined, contentHash: string): string {
  return createHash("sha256")
    .update(previousMsgId ?? "")
    .update("\0")
    .update(contentHash)
    .digest("base64url");
}
