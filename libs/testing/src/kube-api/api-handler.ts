import type { IncomingMessage, ServerResponse } from "node:http";
import { apiVersionOf, type ResourceType } from "./resources.js";
import { AlreadyExistsError, ConflictError, type KubeObject, NotFoundError, type ObjectStore, type StoredEvent } from "./store.js";

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(data) }).end(data);
}

export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export interface ResourcePath {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Map an API path to a resource, namespace, name and subresource; undefined if it is not one. */
export function parseResourcePath(path: string, find: (group: string, version: string, plural: string) => ResourceType | undefined): ResourcePath | undefined {
  const seg = path.split("/").filter(Boolean);
  let group = "";
  let version: string;
  let rest: string[];
  if (seg[0] === "api" && seg.length >= 2) {
    version = seg[1] as string;
    rest = seg.slice(2);
  } else if (seg[0] === "apis" && seg.length >= 3) {
    group = seg[1] as string;
    version = seg[2] as string;
    rest = seg.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  if (!plural) return undefined;
  const resource = find(group, version, plural);
  if (!resource) return undefined;
  if (resource.namespaced !== (namespace !== undefined) && name !== undefined) return undefined;
  const out: ResourcePath = { resource };
  if (namespace !== undefined) out.namespace = namespace;
  if (name !== undefined) out.name = name;
  if (subresource !== undefined) out.subresource = subresource;
  return out;
}

/** `a=b,c!=d,e` against labels. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(",").every((term) => {
    const t = term.trim();
    if (!t) return true;
    if (t.includes("!=")) {
      const [k, v] = t.split("!=") as [string, string];
      return l[k] !== v;
    }
    if (t.includes("=")) {
      const [k, v] = t.split(/==?/) as [string, string];
      return l[k] === v;
    }
    if (t.startsWith("!")) return !(t.slice(1) in l);
    return t in l;
  });
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(target: KubeObject, ops: Array<{ op: string; path: string; value?: unknown }>): KubeObject {
  const doc = structuredClone(target) as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = parts.pop() as string;
    let node: Record<string, unknown> | unknown[] = doc;
    for (const p of parts) node = (node as Record<string, unknown>)[p] as Record<string, unknown>;
    if (op.op === "remove") {
      if (Array.isArray(node)) node.splice(Number(last), 1);
      else delete (node as Record<string, unknown>)[last];
    } else if (op.op === "add" || op.op === "replace") {
      if (Array.isArray(node)) {
        if (last === "-") node.push(op.value);
        else if (op.op === "add") node.splice(Number(last), 0, op.value);
        else node[Number(last)] = op.value;
      } else (node as Record<string, unknown>)[last] = op.value;
    } else if (op.op !== "test") throw new Error(`unsupported JSON patch op ${op.op}`);
  }
  return doc as KubeObject;
}

export interface WatchSession {
  res: ServerResponse;
  end(): void;
}

/** List, get, create, replace, patch, delete, status and watch for one resource path. */
export async function handleResource(
  store: ObjectStore,
  rp: ResourcePath,
  req: IncomingMessage,
  body: unknown,
  query: URLSearchParams,
  res: ServerResponse,
  watches: Set<WatchSession>,
): Promise<void> {
  const r = rp.resource;
  const method = req.method ?? "GET";
  const notFound = () => sendJson(res, 404, status(404, "NotFound", `${r.plural} "${rp.name}" not found`));
  try {
    if (method === "GET" && !rp.name) {
      if (query.get("watch") === "true" || query.get("watch") === "1") return watch(store, rp, query, res, watches);
      const items = store.list(r, rp.namespace).filter((o) => matchesSelector(o.metadata.labels, query.get("labelSelector") ?? undefined));
      return sendJson(res, 200, { apiVersion: apiVersionOf(r), kind: `${r.kind}List`, metadata: { resourceVersion: String(store.resourceVersion) }, items });
    }
    if (method === "GET") {
      const o = store.get(r, rp.namespace, rp.name as string);
      return o ? sendJson(res, 200, o) : notFound();
    }
    if (method === "POST" && !rp.name) {
      const obj = body as KubeObject;
      if (!obj?.metadata?.name) return sendJson(res, 422, status(422, "Invalid", `${r.kind} is invalid: metadata.name: Required value`));
      if (rp.namespace) obj.metadata.namespace = rp.namespace;
      // With a status subresource, status is not the creator's to set.
      if (r.statusSubresource && r.group && r.group !== "apiextensions.k8s.io") delete obj.status;
      return sendJson(res, 201, store.put(r, obj, { create: true }));
    }
    if (method === "DELETE" && rp.name) return sendJson(res, 200, store.delete(r, rp.namespace, rp.name));
    if ((method === "PUT" || method === "PATCH") && rp.name) {
      const prev = store.get(r, rp.namespace, rp.name);
      if (!prev) return notFound();
      let next: KubeObject;
      if (method === "PUT") next = body as KubeObject;
      else if ((req.headers["content-type"] ?? "").includes("json-patch")) next = jsonPatch(prev, body as Array<{ op: string; path: string; value?: unknown }>);
      else next = mergePatch(prev, body) as KubeObject;
      // The status subresource: writes to /status change only status, writes elsewhere never do.
      if (r.statusSubresource) {
        if (rp.subresource === "status")
          next = { ...prev, status: next.status, metadata: { ...prev.metadata, resourceVersion: next.metadata?.resourceVersion } };
        else next = { ...next, status: prev.status };
      }
      next.metadata = { ...next.metadata, name: prev.metadata.name };
      if (prev.metadata.namespace) next.metadata.namespace = prev.metadata.namespace;
      const expectRv = method === "PUT" ? next.metadata.resourceVersion : undefined;
      return sendJson(res, 200, store.put(r, next, expectRv ? { expectRv } : {}));
    }
    sendJson(res, 405, status(405, "MethodNotAllowed", `${method} is not allowed here`));
  } catch (err) {
    if (err instanceof ConflictError) return sendJson(res, 409, status(409, "Conflict", err.message));
    if (err instanceof AlreadyExistsError) return sendJson(res, 409, status(409, "AlreadyExists", err.message));
    if (err instanceof NotFoundError) return sendJson(res, 404, status(404, "NotFound", err.message));
    throw err;
  }
}

function watch(store: ObjectStore, rp: ResourcePath, query: URLSearchParams, res: ServerResponse, watches: Set<WatchSession>): void {
  const r = rp.resource;
  const selector = query.get("labelSelector") ?? undefined;
  const rvParam = query.get("resourceVersion");
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  // Headers now: clients wait for them before they read any event.
  res.flushHeaders();
  const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
  const matches = (e: StoredEvent) =>
    e.resource === `${r.group}/${r.version}/${r.plural}` &&
    (!rp.namespace || e.object.metadata.namespace === rp.namespace) &&
    matchesSelector(e.object.metadata.labels, selector);
  let timer: NodeJS.Timeout | undefined;
  let bookmarks: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const session: WatchSession = {
    res,
    end() {
      clearTimeout(timer);
      clearInterval(bookmarks);
      unsubscribe();
      watches.delete(session);
      if (!res.writableEnded) res.end();
    },
  };
  watches.add(session);
  res.on("close", () => session.end());
  if (!rvParam || rvParam === "0") {
    for (const o of store.list(r, rp.namespace)) if (matchesSelector(o.metadata.labels, selector)) write("ADDED", o);
  } else {
    const missed = store.since(r, rp.namespace, Number(rvParam));
    if (!missed) {
      write("ERROR", status(410, "Expired", `too old resource version: ${rvParam} (${store.oldestResumable})`));
      session.end();
      return;
    }
    for (const e of missed) if (matches(e)) write(e.type, e.object);
  }
  unsubscribe = store.subscribe((e) => {
    if (matches(e)) write(e.type, e.object);
  });
  if (query.get("allowWatchBookmarks") === "true") {
    bookmarks = setInterval(
      () => write("BOOKMARK", { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(store.resourceVersion) } }),
      1_000,
    );
  }
  const timeout = Number(query.get("timeoutSeconds") ?? 0);
  if (timeout > 0) timer = setTimeout(() => session.end(), timeout * 1000);
}
