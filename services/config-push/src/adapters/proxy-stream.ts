import { type BusLogger, silentLogger } from "@isthmus/bus";
import { type SnapshotCache, type TypeDescriptor, type TypeUrl, typeDescriptor } from "@isthmus/xds";
import { authorizeSecret, type ProxyInfo } from "../domain/proxy.js";
import { type Subscription, SubscriptionSets } from "./subscriptions.js";
import { errorText, XDS_LIMITS, type XdsLimits } from "./xds-limits.js";

/** Where a stream's responses go: false when the message was not written (the stream is being closed). */
export interface ResponseWriter {
  write(msg: Buffer, type: string): boolean;
  /** The client answered the latest response of this type. */
  answered(type: string): void;
}

/** Per proxy and type, what both protocols keep: what was sent with which nonce, and the answer to it. */
export interface AnswerState {
  nonce?: string;
  /** Cache version of the last response. */
  sent?: string;
  acked?: string;
  nacked?: string;
  error?: string;
}

/** What a stream tells the server (go-control-plane's Callbacks, for one stream). */
export interface StreamCallbacks {
  /** The proxy answered the latest response of this type: an ACK, or a NACK when `nack`. */
  answered?(s: ProxyStream, type: string, nack: boolean): void;
  /** A response of this type and size was written. */
  sent?(s: ProxyStream, type: string, bytes: number): void;
}

/** What every stream shares with the others of its server. */
export interface StreamContext {
  nextNonce(): string;
  limits: XdsLimits;
  log: BusLogger;
  /** Interned subscriptions, shared by all streams. */
  subscriptions: SubscriptionSets;
  /**
   * Response bodies shared by the streams of a view: `make` runs once per key; null means
   * "nothing to send", undefined "do not share" (computed again next time).
   */
  body?(cache: SnapshotCache, key: string, make: () => Buffer | null | undefined): Buffer | null | undefined;
  callbacks: StreamCallbacks;
}

/** A context for streams driven alone (unit tests, tools): its own nonces and subscriptions, nothing shared. */
export function standaloneContext(o: Partial<StreamContext> = {}): StreamContext {
  let nonce = 0;
  return { nextNonce: () => String(++nonce), limits: XDS_LIMITS, log: silentLogger, subscriptions: new SubscriptionSets(), callbacks: {}, ...o };
}

/** Who a stream serves. */
export interface StreamIdentity {
  info: ProxyInfo;
  /** This stream's own id (node id and a counter, as istiod's): several streams may share a node id. */
  connId: string;
  /** The proxy's ISTIO_VERSION (the pilot_xds label). */
  version: string;
}

/**
 * One proxy's ADS stream, state of the world or delta: the server admits it, hands it the
 * requests, and asks it to push what its view changed.
 */
export interface ProxyStream {
  readonly protocol: "sotw" | "delta";
  readonly id: string;
  readonly connId: string;
  readonly version: string;
  readonly info: ProxyInfo;
  readonly cache: SnapshotCache;
  readonly connectedAt: Date;
  readonly writer: ResponseWriter;
  readonly types: ReadonlyMap<string, AnswerState>;
  /** Types changed in the cache and not yet pushed (waiting for a push slot). */
  readonly pending: Set<TypeUrl>;
  /** Push the pending types; whether anything was written (an answer is then awaited). */
  flush(): boolean;
  /** Give back the interned subscriptions (the stream is gone). */
  release(): void;
}

/**
 * The one ACK/NACK rule of both protocols: a request without a nonce is a plain request; one
 * echoing an older nonce is stale (a newer response is on its way: ignored whole); one
 * echoing the latest answers it — a NACK when it carries error_detail (the proxy stays on
 * its last good version, which is then not sent again), an ACK of what was sent otherwise.
 */
export function applyAnswer(
  st: AnswerState,
  nonce: string,
  errorDetail: { message?: string } | null | undefined,
  limits: XdsLimits,
): "request" | "stale" | "ack" | "nack" {
  if (!nonce) return "request";
  if (nonce !== st.nonce) return "stale";
  if (errorDetail) {
    st.nacked = st.sent;
    st.error = errorText(errorDetail.message, limits);
    return "nack";
  }
  st.acked = st.sent;
  st.nacked = undefined;
  st.error = undefined;
  return "ack";
}

/** SDS names this proxy may have; the others are refused, logged and reported in the type's error. */
export function authorizedSecrets(info: ProxyInfo, names: string[], st: { error?: string }, log: BusLogger): string[] {
  const ok: string[] = [];
  const refused: string[] = [];
  for (const n of names) {
    const reason = authorizeSecret(n, info.namespace);
    if (reason) refused.push(reason);
    else ok.push(n);
  }
  if (refused.length) {
    st.error = refused.join("; ");
    log.warn({ proxy: info.id, refused }, "secret request refused");
  }
  return ok;
}

/** What both protocols' streams share: who they serve, their per-type state, the answer rule. */
export abstract class BaseStream<St extends AnswerState & { sub?: Subscription | undefined }> implements ProxyStream {
  abstract readonly protocol: "sotw" | "delta";
  readonly types = new Map<string, St>();
  readonly pending = new Set<TypeUrl>();
  readonly connectedAt = new Date();
  readonly id: string;
  readonly connId: string;
  readonly version: string;
  readonly info: ProxyInfo;

  constructor(
    readonly writer: ResponseWriter,
    who: StreamIdentity,
    readonly cache: SnapshotCache,
    protected readonly ctx: StreamContext,
  ) {
    this.info = who.info;
    this.id = who.info.id;
    this.connId = who.connId;
    this.version = who.version;
  }

  /** The type's descriptor; undefined (and logged) for a type this server does not serve. */
  protected served(type: string): TypeDescriptor | undefined {
    const desc = typeDescriptor(type);
    if (!desc) this.ctx.log.warn({ proxy: this.id, type: type.slice(0, 200), protocol: this.protocol }, "request for an unknown resource type ignored");
    return desc;
  }

  /** Apply the answer rule to a request and tell the server; false when the request is stale (to be ignored). */
  protected answer(type: string, st: St, nonce: string, errorDetail: { message?: string } | null | undefined): boolean {
    const answer = applyAnswer(st, nonce, errorDetail, this.ctx.limits);
    if (answer === "stale") return false;
    if (answer === "nack")
      this.ctx.log.warn({ proxy: this.id, type, version: st.sent, error: st.error, protocol: this.protocol }, "NACK: proxy keeps its last good config");
    if (answer === "ack" || answer === "nack") this.ctx.callbacks.answered?.(this, type, answer === "nack");
    return true;
  }

  abstract flush(): boolean;

  release(): void {
    for (const st of this.types.values()) this.ctx.subscriptions.release(st.sub);
  }
}
