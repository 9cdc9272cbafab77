import { encodeToken } from "@isthmus/events";

/**
 * What one xDS client may send. Anything over a limit is refused with the limit named
 * (INVALID_ARGUMENT), except a NACK's error text, which is kept shortened: the NACK itself
 * is valid and its first kilobytes say what went wrong.
 */
export const XDS_LIMITS = {
  /** gRPC's default, and istiod's (ISTIO_GPRC_MAXRECVMSGSIZE). */
  maxRequestBytes: 4 * 1024 * 1024,
  /**
   * A node id becomes a token of the proxy-status subject (encoded: up to 9 bytes per
   * character); NATS refuses a protocol line over 4 KiB and closes the connection.
   */
  maxEncodedNodeIdBytes: 1_024,
  /** Istio's resource names are at most a host (253) plus port and subset. */
  maxNameBytes: 1_024,
  maxNamesPerRequest: 100_000,
  maxErrorDetailChars: 4_096,
  /** Responses written to a stream and not yet answered (ACK/NACK) by its client. */
  maxQueuedBytesPerStream: 16 * 1024 * 1024,
} as const;

export type XdsLimits = { -readonly [K in keyof typeof XDS_LIMITS]: number };

/** Why this node id may not connect, if it may not. */
export function nodeIdProblem(id: string, l: XdsLimits = XDS_LIMITS): string | undefined {
  const bytes = Buffer.byteLength(encodeToken(id));
  return bytes > l.maxEncodedNodeIdBytes
    ? `node id is ${bytes} bytes once encoded as a subject token; at most ${l.maxEncodedNodeIdBytes} are accepted`
    : undefined;
}

/** Why these resource names are refused, if they are. */
export function namesProblem(names: readonly string[], l: XdsLimits = XDS_LIMITS): string | undefined {
  if (names.length > l.maxNamesPerRequest) return `${names.length} resource names in one request; at most ${l.maxNamesPerRequest} are accepted`;
  for (const n of names) {
    const bytes = Buffer.byteLength(n);
    if (bytes > l.maxNameBytes) return `a resource name of ${bytes} bytes (${JSON.stringify(n.slice(0, 40))}…); at most ${l.maxNameBytes} are accepted`;
  }
  return undefined;
}

/** A NACK's error text as kept and reported: at most `maxErrorDetailChars`, saying how much was cut. */
export function errorText(message: string | undefined, l: XdsLimits = XDS_LIMITS): string {
  const m = message ?? "";
  return m.length <= l.maxErrorDetailChars ? m : `${m.slice(0, l.maxErrorDetailChars)}… (${m.length - l.maxErrorDetailChars} more characters not kept)`;
}

/** A request this server refuses: the stream is ended with INVALID_ARGUMENT and this reason. */
export class RefusedRequest extends Error {}
