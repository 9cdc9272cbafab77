/**
 * Why a JetStream publish failed in a way a retry with the same Nats-Msg-Id can cure (the
 * stream's leader is being elected, the connection is moving to another node, the ack was
 * lost), or undefined when retrying cannot help (a wrong expected sequence, a permission
 * violation, a bad subject). Matched by error name: the client's classes live in
 * several packages, and the names are their stable contract.
 */
export function transientPublishFailure(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  switch (err.name) {
    // nats.js reports "no responders" on a stream subject as JetStream not enabled: in a
    // cluster it means the stream has no leader right now.
    case "JetStreamNotEnabled":
    case "NoResponders":
      return "no responders (the stream has no leader: election under way or no quorum; or no stream takes this subject)";
    case "TimeoutError":
      return "no acknowledgement in time (leader lost, or the ack was lost on the way)";
    case "ConnectionError":
      return `connection to NATS lost (${err.message})`;
    // A request's own failure is its cause's: no responders yes, a permission violation no.
    case "RequestError":
      return err.cause === undefined ? undefined : transientPublishFailure(err.cause);
    case "JetStreamApiError": {
      const e = err as Error & { code?: number; status?: number };
      // 10008: JetStream system temporarily unavailable; 503: no leader.
      if (e.code === 10008 || e.status === 503) return `JetStream temporarily unavailable (${err.message})`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A publish that got no acknowledgement within its retry deadline. */
export class PublishUnavailableError extends Error {
  constructor(
    readonly subject: string,
    readonly msgId: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly reason: string,
  ) {
    super(`publish to ${subject} (msg id ${msgId}) not acknowledged after ${attempts} attempts over ${elapsedMs} ms: ${reason}`);
    this.name = "PublishUnavailableError";
  }
}

/** Full-jitter exponential backoff between publish attempts, capped at 1 s. */
export function publishBackoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(1_000, 50 * 2 ** Math.min(attempt, 5));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}
