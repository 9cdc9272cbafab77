import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The Kubernetes API stand-in: an HTTP server speaking the parts of the Kubernetes API
 * that Isthmus uses, for tests through the real @kubernetes/client-node. It is the only
 * stand-in in the project. This slice serves TokenReview; list/watch of core kinds,
 * CRDs with status, Lease and fault injection extend the same router.
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

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(data) }).end(data);
}

export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export class KubeApiStandIn {
  private server: Server | undefined;
  private readonly routes: Route[] = [];
  private readonly tokens = new Map<string, ServiceAccountToken>();
  /** The token clients of the stand-in itself must present (like a kubeconfig user's token). */
  readonly adminToken = `admin-${randomBytes(12).toString("hex")}`;
  /** Requests seen, for tests that assert what the client did. */
  readonly requests: Array<{ method: string; path: string }> = [];

  constructor(readonly clusterId = "cluster-1") {
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
    sendJson(res, 404, status(404, "NotFound", `the server could not find the requested resource (${req.method} ${url.pathname})`));
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, status(500, "InternalError", String(err)));
      });
    });
    await new Promise<void>((r) => this.server?.listen(port, "127.0.0.1", r));
    return this.url;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    if (!a) throw new Error("stand-in not started");
    return `http://127.0.0.1:${a.port}`;
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
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    this.server = undefined;
  }
}
