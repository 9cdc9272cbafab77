import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type AccessOptions, hostAllowed } from "../domain/access.js";
import type { ReadModel } from "../domain/read-model.js";
import type { HistoryEntry, Update } from "../domain/wire.js";
import type { ConfigWriter } from "./writer.js";

export interface ConsoleHttpOptions extends AccessOptions {
  port: number;
  model: ReadModel;
  history: (subject: string) => Promise<HistoryEntry[]>;
  /** A proxy's config dump, already redacted; undefined when no config-push debug endpoint is known. */
  proxyConfig?: (proxyId: string) => Promise<{ status: number; body: unknown }>;
  writer: ConfigWriter;
  log: (msg: string) => void;
}

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, "..", "..");
const STATIC = join(packageRoot, "static");
/** The UI is compiled by `tsc -b` into dist/; the browser loads the UI modules and the pure domain modules it imports. */
const DIST = join(packageRoot, "dist");
const PREACT = dirname(dirname(createRequire(import.meta.url).resolve("preact")));

const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: "./vendor/preact/dist/preact.mjs",
    "preact/hooks": "./vendor/preact/hooks/dist/hooks.mjs",
    "preact/jsx-runtime": "./vendor/preact/jsx-runtime/dist/jsxRuntime.mjs",
  },
});
const IMPORT_MAP_HASH = createHash("sha256").update(IMPORT_MAP).digest("base64");
const CSP = `default-src 'self'; script-src 'self' 'sha256-${IMPORT_MAP_HASH}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".map": "application/json",
};

const COOKIE = "isthmus_console";
const MAX_BUFFERED = 64 << 20;

/** A file under `root`, or undefined for anything outside it. */
function under(root: string, rel: string): string | undefined {
  const p = normalize(join(root, rel));
  return p.startsWith(root + sep) ? p : undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) => send(res, status, "application/json", JSON.stringify(body));

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE) return v.join("=");
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

async function body(req: IncomingMessage, limit = 4096): Promise<string> {
  let s = "";
  for await (const chunk of req) {
    s += chunk;
    if (s.length > limit) throw new RangeError("request body too large");
  }
  return s;
}

const LOGIN_PAGE = (failed: boolean) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Isthmus console — sign in</title>
<link rel="stylesheet" href="./static/console.css"></head><body class="login"><form method="post" action="./login">
<h1>Isthmus console</h1>${failed ? '<p class="error">That token is not the console\'s login token.</p>' : ""}
<label>Login token <input type="password" name="token" autocomplete="current-password" autofocus></label><button type="submit">Sign in</button></form></body></html>`;

/**
 * The console's HTTP side: the UI's files, a snapshot-then-updates SSE stream of the read
 * model, a config resource's history and a proxy's (redacted) config dump. With a token,
 * everything but the login page needs the session cookie or `Authorization: Bearer <token>`.
 */
export async function startConsoleHttp(o: ConsoleHttpOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  // The session cookie is a value derived from the token and this process, so the token itself never sits in a cookie.
  const session = o.token ? createHash("sha256").update(o.token).update(randomBytes(32)).digest("base64url") : undefined;
  const clients = new Set<ServerResponse>();
  const secure = o.tls !== undefined;

  const authorized = (req: IncomingMessage): boolean => {
    if (!o.token || !session) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ") && sameSecret(auth.slice(7), o.token)) return true;
    const c = cookieOf(req);
    return c !== undefined && sameSecret(c, session);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader("content-security-policy", CSP);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    res.setHeader("x-frame-options", "DENY");
    if (secure) res.setHeader("strict-transport-security", "max-age=31536000");
    if (!hostAllowed(req.headers.host, o)) return send(res, 421, "text/plain", `host ${req.headers.host ?? "(none)"} is not the console's\n`);
    const url = new URL(req.url ?? "/", "http://console");
    const path = url.pathname;

    if (path === "/login" && o.token) {
      if (req.method === "POST") {
        const token = new URLSearchParams(await body(req)).get("token") ?? "";
        if (session && sameSecret(token, o.token)) {
          res.setHeader("set-cookie", `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`);
          res.writeHead(303, { location: "./" }).end();
          return;
        }
        return send(res, 401, TYPES[".html"] as string, LOGIN_PAGE(true));
      }
      return send(res, 200, TYPES[".html"] as string, LOGIN_PAGE(false));
    }
    // Probes: no data, no token needed (Kubernetes and Compose health checks).
    if (path === "/healthz") return send(res, 200, "text/plain", "ok\n");
    if (path === "/readyz") return o.model.caughtUp ? send(res, 200, "text/plain", "ready\n") : send(res, 503, "text/plain", "catching up with the streams\n");
    if (path === "/static/console.css") return send(res, 200, TYPES[".css"] as string, readFileSync(join(STATIC, "console.css")));
    if (!authorized(req)) {
      if (path === "/" || path === "/index.html") {
        res.writeHead(303, { location: "./login" }).end();
        return;
      }
      return json(res, 401, { error: "sign in first: the console needs its login token" });
    }

    if (path === "/" || path === "/index.html") {
      const html = readFileSync(join(STATIC, "index.html"), "utf8").replace("<!--IMPORT_MAP-->", `<script type="importmap">${IMPORT_MAP}</script>`);
      return send(res, 200, TYPES[".html"] as string, html);
    }
    if (path.startsWith("/app/ui/") || path.startsWith("/app/domain/")) {
      const f = under(DIST, path.slice("/app/".length));
      if (!f || ![".js", ".map"].includes(extname(f))) return json(res, 404, { error: "not found" });
      try {
        return send(res, 200, TYPES[extname(f)] as string, readFileSync(f));
      } catch {
        return json(res, 404, { error: `not found: ${path} (is the console built? npm run build)` });
      }
    }
    if (path.startsWith("/vendor/preact/")) {
      const f = under(PREACT, path.slice("/vendor/preact/".length));
      if (!f || extname(f) !== ".mjs") return json(res, 404, { error: "not found" });
      try {
        return send(res, 200, TYPES[".mjs"] as string, readFileSync(f));
      } catch {
        return json(res, 404, { error: "not found" });
      }
    }
    if (path === "/api/snapshot") return json(res, 200, o.model.snapshot());
    if (path === "/api/stream") return stream(req, res);
    if (path === "/api/history") {
      const subject = url.searchParams.get("subject");
      if (!subject) return json(res, 400, { error: "the subject query parameter is required" });
      try {
        return json(res, 200, await o.history(subject));
      } catch (e) {
        return json(res, e instanceof RangeError ? 400 : 502, { error: (e as Error).message });
      }
    }
    if (path === "/api/proxy-config") {
      const id = url.searchParams.get("proxyID");
      if (!id) return json(res, 400, { error: "the proxyID query parameter is required" });
      if (!o.proxyConfig) return json(res, 501, { error: "no config-push debug endpoint is configured (CONSOLE_CONFIG_PUSH_DEBUG_URL)" });
      const r = await o.proxyConfig(id).catch((e: Error) => ({ status: 502, body: { error: `config-push: ${e.message}` } }));
      return json(res, r.status, r.body);
    }
    if (path === "/api/config") {
      // The write seam: everything goes through the writer, which is the config admission path or a refusal.
      if (req.method === "GET") return json(res, 200, { writing: o.writer.enabled });
      const r = await o.writer.submit(req.method ?? "", await body(req, 1 << 20).catch(() => ""));
      return json(res, r.status, r.body);
    }
    return json(res, 404, { error: `no such page: ${path}` });
  };

  /** SSE: the snapshot as the first message, then batches of updates every 100 ms. */
  const stream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`event: snapshot\ndata: ${JSON.stringify(o.model.snapshot())}\n\n`);
    let batch: Update[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (batch.length) res.write(`event: updates\ndata: ${JSON.stringify(batch)}\n\n`);
      batch = [];
    };
    const off = o.model.subscribe((u) => {
      // A browser that stopped reading is dropped rather than buffered without bound; it reconnects to a fresh snapshot.
      if (res.writableLength > MAX_BUFFERED) {
        o.log(`console: dropping an SSE client ${MAX_BUFFERED >> 20} MiB behind`);
        res.destroy();
        return;
      }
      batch.push(u);
      timer ??= setTimeout(flush, 100);
    });
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    clients.add(res);
    const done = () => {
      off();
      clearInterval(ping);
      clearTimeout(timer);
      clients.delete(res);
    };
    req.on("close", done);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((e: Error) => {
      o.log(`console: ${req.method} ${req.url}: ${e.message}`);
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.end();
    });
  };
  const server = o.tls ? createHttps({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, onRequest) : createHttp(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `${secure ? "https" : "http"}://${host}:${addr.port}/`,
    async close() {
      for (const c of clients) c.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
