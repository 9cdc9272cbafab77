import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { handleResource, parseResourcePath, sendJson, status, type WatchSession } from "./api-handler.js";
import { BUILTIN_RESOURCES, type ResourceType, resourceKey } from "./resources.js";
import { type KubeObject, ObjectStore } from "./store.js";

export { sendJson, status } from "./api-handler.js";
export type { KubeObject } from "./store.js";

/**
 * The Kubernetes API stand-in: an HTTP server speaking the parts of the Kubernetes API
 * that Isthmus uses, for tests through the real @kubernetes/client-node. It is the only
 * stand-in in the project: list with resourceVersion, watch with ADDED / MODIFIED /
 * DELETED / BOOKMARK and 410 Gone for expired versions, the status subresource, merge and
 * JSON patches, finalizers, CRDs, Lease, TokenReview, and fault injection (dropped or
 * broken watches, refused connections, delays, expired history).
 */

export interface ServiceAccountToken {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  expiresAt: Date;
  uid: string;
}

type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse, params: Record<string, string>) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export class KubeApiStandIn {
  private server: Server | undefined;
  private readonly routes: Route[] = [];
  private readonly tokens = new Map<string, ServiceAccountToken>();
  /** The token clients of the stand-in itself must present (like a kubeconfig user's token). */
  readonly adminToken = `admin-${randomBytes(12).toString("hex")}`;
  /** Requests seen, for tests that assert what the client did. */
  readonly requests: Array<{ method: string; path: string }> = [];
  readonly store = new ObjectStore();
  private readonly resources = new Map<string, ResourceType>();
  private readonly watches = new Set<WatchSession>();
  private readonly sockets = new Set<Socket>();
  private port = 0;
  /** Delay before every response (ms). */
  delayMs = 0;

  constructor(readonly clusterId = "cluster-1") {
    for (const r of BUILTIN_RESOURCES) this.resources.set(resourceKey(r), r);
    this.route("POST", "/apis/authentication.k8s.io/v1/tokenreviews", (_req, body, res) => this.tokenReview(body, res));
    this.route("GET", "/version", (_req, _body, res) => sendJson(res, 200, { major: "1", minor: "30", gitVersion: "v1.30.0-isthmus-standin" }));
  }

  /** Register a handler; `:name` segments become params. */
  route(method: string, path: string, handler: Handler): void {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
        keys.push(k);
        return "([^/]+)";
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler });
  }

  /** Mint a service-account token as the kubelet would (projected, with audiences and expiry). */
  issueServiceAccountToken(o: { namespace: string; serviceAccount: string; audiences?: string[]; ttlSeconds?: number }): string {
    const token = `sa.${o.namespace}.${o.serviceAccount}.${randomBytes(16).toString("base64url")}`;
    this.tokens.set(token, {
      namespace: o.namespace,
      serviceAccount: o.serviceAccount,
      audiences: o.audiences ?? ["istio-ca"],
      expiresAt: new Date(Date.now() + (o.ttlSeconds ?? 3600) * 1000),
      uid: randomBytes(8).toString("hex"),
    });
    return token;
  }

  private tokenReview(body: unknown, res: ServerResponse): void {
    const spec = (body as { spec?: { token?: string; audiences?: string[] } })?.spec ?? {};
    const reply = (st: Record<string, unknown>) => sendJson(res, 201, { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec, status: st });
    reply(this.review(spec.token, spec.audiences));
  }

  private review(token: string | undefined, audiences: string[] | undefined): Record<string, unknown> {
    const t = token ? this.tokens.get(token) : undefined;
    if (!t) return { authenticated: false, error: "[invalid bearer token, token lookup failed]" };
    if (t.expiresAt.getTime() <= Date.now()) return { authenticated: false, error: "[invalid bearer token, service account token has expired]" };
    const wanted = audiences?.length ? audiences : t.audiences;
    const granted = t.audiences.filter((a) => wanted.includes(a));
    if (!granted.length) return { authenticated: false, error: "[invalid bearer token, token audiences are invalid for the target audiences]" };
    return {
      authenticated: true,
      audiences: granted,
      user: {
        username: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`,
        uid: t.uid,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${t.namespace}`, "system:authenticated"],
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const url = new URL(req.url ?? "/", "http://standin");
    this.requests.push({ method: req.method ?? "GET", path: url.pathname });
    if (req.headers.authorization !== `Bearer ${this.adminToken}`) return sendJson(res, 401, status(401, "Unauthorized", "Unauthorized"));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return sendJson(res, 400, status(400, "BadRequest", "request body is not JSON"));
      }
    }
    for (const r of this.routes) {
      if (r.method !== req.method) continue;
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] as string);
      });
      for (const [k, v] of url.searchParams) params[k] ??= v;
      return r.handler(req, body, res, params);
    }
    const rp = parseResourcePath(url.pathname, (g, v, p) => this.resources.get(`${g}/${v}/${p}`));
    if (rp) {
      await handleResource(this.store, rp, req, body, url.searchParams, res, this.watches);
      if (rp.resource.kind === "CustomResourceDefinition" && (req.method === "POST" || req.method === "PUT")) this.registerFromCrd(body as KubeObject);
      return;
    }
    sendJson(res, 404, status(404, "NotFound", `the server could not find the requested resource (${req.method} ${url.pathname})`));
  }

  /** Serve a custom resource type (as applying its CRD would). */
  registerResource(r: ResourceType): void {
    this.resources.set(resourceKey(r), r);
  }

  private registerFromCrd(crd: KubeObject): void {
    const spec = crd?.spec as
      | { group: string; names: { plural: string; kind: string }; scope: string; versions: Array<{ name: string; subresources?: { status?: unknown } }> }
      | undefined;
    if (!spec) return;
    for (const v of spec.versions ?? []) {
      this.registerResource({
        group: spec.group,
        version: v.name,
        plural: spec.names.plural,
        kind: spec.names.kind,
        namespaced: spec.scope === "Namespaced",
        statusSubresource: Boolean(v.subresources?.status),
      });
    }
  }

  private resourceFor(apiVersion: string, kind: string): ResourceType {
    for (const r of this.resources.values()) if ((r.group ? `${r.group}/${r.version}` : r.version) === apiVersion && r.kind === kind) return r;
    throw new Error(`the stand-in does not serve ${apiVersion} ${kind}`);
  }

  /** Create or replace an object directly, as another client of the cluster would. */
  apply<T extends KubeObject>(obj: T): T {
    return this.store.put(this.resourceFor(obj.apiVersion as string, obj.kind as string), obj) as T;
  }

  /** Delete an object directly. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    this.store.delete(this.resourceFor(apiVersion, kind), namespace, name);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.store.list(this.resourceFor(apiVersion, kind), namespace);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(this.resourceFor(apiVersion, kind), namespace, name);
  }

  // ------------------------------------------------------------------ faults

  /** End every open watch cleanly: clients re-watch from their last resourceVersion. */
  dropWatches(): void {
    for (const w of [...this.watches]) w.end();
  }

  /** Cut every open watch's connection: clients see an error. */
  breakWatches(): void {
    for (const w of [...this.watches]) {
      w.res.socket?.destroy();
      w.end();
    }
  }

  /** Forget the event history: any watch resuming from before now gets 410 Gone. */
  expireHistory(): void {
    this.store.compact();
  }

  /** The API server goes away: listener closed, connections cut. Objects are kept. */
  async goDown(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const w of [...this.watches]) w.end();
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Back on the same port, with the objects it had. */
  async comeUp(): Promise<void> {
    if (this.server) return;
    await this.start(this.port);
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, status(500, "InternalError", String(err)));
      });
    });
    this.server.on("connection", (sock: Socket) => {
      this.sockets.add(sock);
      sock.on("close", () => this.sockets.delete(sock));
    });
    await new Promise<void>((r) => this.server?.listen(port, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    if (!this.port) throw new Error("stand-in not started");
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig (YAML) pointing at this stand-in, as a user would write one. */
  kubeconfig(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      // Plain HTTP on loopback; client-node accepts it only with TLS verification off.
      `clusters:\n- name: ${this.clusterId}\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
      `users:\n- name: admin\n  user:\n    token: ${this.adminToken}`,
      `contexts:\n- name: ${this.clusterId}\n  context:\n    cluster: ${this.clusterId}\n    user: admin`,
      `current-context: ${this.clusterId}`,
      "",
    ].join("\n");
  }

  async stop(): Promise<void> {
    await this.goDown();
  }
}
