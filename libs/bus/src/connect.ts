import { readFileSync } from "node:fs";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  type Authenticator,
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import { inboxPrefixFor } from "./permissions.js";
import { clusterReplicas } from "./streams.js";

export interface BusTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface BusConnectOptions {
  servers: string | string[];
  /** Client name shown by the server (`nats server report connections`). */
  name?: string;
  user?: string;
  password?: string;
  token?: string;
  /** An nkey seed (SU...), for nkey auth. */
  nkeySeed?: string;
  /** A .creds file (JWT + nkey seed). */
  credsFile?: string;
  tls?: BusTls;
  /** Keep retrying the first connect too (services: yes; CLI one-shots: no). */
  waitOnFirstConnect?: boolean;
  /** Cap of the exponential reconnect backoff. */
  maxReconnectDelayMs?: number;
  /** JetStream domain to talk to (leaf nodes with their own domain). */
  jsDomain?: string;
  /**
   * Where replies to this connection's requests arrive. Default with a user: `_INBOX_<user>`,
   * the only inboxes the generated permissions let that user subscribe to, so no service sees
   * another's replies; without a user, NATS's `_INBOX`.
   */
  inboxPrefix?: string;
}

/** Options from the environment: NATS_URL, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS, NATS_TLS_CA/CERT/KEY, NATS_INBOX_PREFIX. */
export function busOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, name?: string): BusConnectOptions {
  const opts: BusConnectOptions = { servers: (env.NATS_URL ?? "nats://127.0.0.1:4222").split(",") };
  if (name) opts.name = name;
  if (env.NATS_USER) opts.user = env.NATS_USER;
  if (env.NATS_PASSWORD) opts.password = env.NATS_PASSWORD;
  if (env.NATS_TOKEN) opts.token = env.NATS_TOKEN;
  if (env.NATS_NKEY_SEED) opts.nkeySeed = env.NATS_NKEY_SEED;
  if (env.NATS_CREDS) opts.credsFile = env.NATS_CREDS;
  if (env.NATS_JS_DOMAIN) opts.jsDomain = env.NATS_JS_DOMAIN;
  if (env.NATS_INBOX_PREFIX) opts.inboxPrefix = env.NATS_INBOX_PREFIX;
  if (env.NATS_TLS_CA || env.NATS_TLS_CERT) {
    opts.tls = {};
    if (env.NATS_TLS_CA) opts.tls.caFile = env.NATS_TLS_CA;
    if (env.NATS_TLS_CERT) opts.tls.certFile = env.NATS_TLS_CERT;
    if (env.NATS_TLS_KEY) opts.tls.keyFile = env.NATS_TLS_KEY;
  }
  return opts;
}

function authenticators(o: BusConnectOptions): Authenticator[] {
  const a: Authenticator[] = [];
  if (o.user !== undefined) a.push(usernamePasswordAuthenticator(o.user, o.password ?? ""));
  if (o.token !== undefined) a.push(tokenAuthenticator(o.token));
  if (o.nkeySeed !== undefined) a.push(nkeyAuthenticator(new TextEncoder().encode(o.nkeySeed)));
  if (o.credsFile !== undefined) a.push(credsAuthenticator(readFileSync(o.credsFile)));
  return a;
}

export function connectionOptions(o: BusConnectOptions): ConnectionOptions {
  let attempt = 0;
  const cap = o.maxReconnectDelayMs ?? 5_000;
  const opts: ConnectionOptions = {
    servers: o.servers,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: o.waitOnFirstConnect ?? true,
    // Exponential backoff with full jitter, reset by a successful reconnect (see Bus).
    reconnectDelayHandler: () => {
      attempt++;
      const ceiling = Math.min(cap, 100 * 2 ** Math.min(attempt, 10));
      return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
    },
    pingInterval: 10_000,
    maxPingOut: 3,
  };
  (opts as { resetBackoff?: () => void }).resetBackoff = () => {
    attempt = 0;
  };
  if (o.name) opts.name = o.name;
  const inbox = o.inboxPrefix ?? (o.user !== undefined ? inboxPrefixFor(o.user) : undefined);
  if (inbox) opts.inboxPrefix = inbox;
  const auth = authenticators(o);
  if (auth.length) opts.authenticator = auth;
  if (o.tls) {
    opts.tls = {};
    if (o.tls.caFile) opts.tls.caFile = o.tls.caFile;
    if (o.tls.certFile) opts.tls.certFile = o.tls.certFile;
    if (o.tls.keyFile) opts.tls.keyFile = o.tls.keyFile;
  }
  return opts;
}

/** A NATS connection with its JetStream client and manager. */
export class Bus {
  private disconnected = false;
  private jsProbe: { at: number; ok: Promise<boolean> } | undefined;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly jsApi: string,
  ) {}

  static async connect(o: BusConnectOptions): Promise<Bus> {
    const copts = connectionOptions(o);
    const nc = await connect(copts);
    const jsOpts = o.jsDomain ? { domain: o.jsDomain } : {};
    const bus = new Bus(nc, jetstream(nc, jsOpts), await jetstreamManager(nc, jsOpts), o.jsDomain ? `$JS.${o.jsDomain}.API` : "$JS.API");
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") bus.disconnected = true;
        if (s.type === "reconnect") {
          bus.disconnected = false;
          (copts as { resetBackoff?: () => void }).resetBackoff?.();
        }
      }
    })();
    return bus;
  }

  /** Replicas for the streams this connection creates: the size of the cluster it landed on, at most 3. */
  get streamReplicas(): number {
    return clusterReplicas(this.nc.info);
  }

  /** For readiness: connected now (not closed, not between reconnects). */
  get connected(): boolean {
    return !this.nc.isClosed() && !this.disconnected;
  }

  /**
   * For readiness: connected, and JetStream answers. A cluster that lost its quorum keeps
   * the connection up while no stream takes a publish; its API does not answer then.
   * One probe per second at most, however often readiness is asked.
   */
  jetStreamReady(): Promise<boolean> {
    if (!this.connected) return Promise.resolve(false);
    const now = Date.now();
    if (!this.jsProbe || now - this.jsProbe.at >= 1_000) {
      const ok = this.nc.request(`${this.jsApi}.INFO`, undefined, { timeout: 1_000 }).then(
        (m) => !m.json<{ error?: unknown }>().error,
        () => false,
      );
      this.jsProbe = { at: now, ok };
    }
    return this.jsProbe.ok;
  }

  /**
   * Let in-flight work finish, flush, and close. A drain cannot finish while the server is
   * gone (a stop after NATS went first): after `drainMs` the connection is closed as is.
   */
  async close(drainMs = 2_000): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.nc.drain().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained && !this.nc.isClosed()) await this.nc.close();
  }
}
