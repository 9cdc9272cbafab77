import { type HeaderOps, REDIRECT_STATUS_CODES, type RouteAction } from "@isthmus/xds";
import { ConfigError, checkRegex, durationMs } from "./traffic.js";

/** Istio's HTTPRetry (networking.istio.io/v1 VirtualService `http[].retries`), every field. */
export interface HttpRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  backoff?: string;
}

/**
 * A VirtualService's retries for the route builders, which apply each proxy kind's defaults
 * (Istio's default policy under Envoy's fields; gRPC's retry_on names). `attempts: 0` (or
 * none given) disables retries, as in Istio.
 */
export function retryOf(r: HttpRetry): NonNullable<RouteAction["retry"]> {
  const perTry = durationMs(r.perTryTimeout);
  const backoff = durationMs(r.backoff);
  return {
    attempts: r.attempts ?? 0,
    ...(r.retryOn ? { retryOn: r.retryOn } : {}),
    ...(perTry ? { perTryTimeoutMs: perTry } : {}),
    ...(r.retryRemoteLocalities !== undefined ? { retryRemoteLocalities: r.retryRemoteLocalities } : {}),
    ...(r.retryIgnorePreviousHosts !== undefined ? { retryIgnorePreviousHosts: r.retryIgnorePreviousHosts } : {}),
    ...(backoff ? { backoffMs: backoff } : {}),
  };
}

type StringMatch = { exact?: string; prefix?: string; regex?: string };
interface Destination {
  host: string;
  subset?: string;
  port?: { number?: number };
}

/** The parts of Istio's HTTPRoute read here (networking.istio.io/v1 VirtualService `http[]`). */
export interface HttpRouteFeatures {
  rewrite?: { uri?: string; authority?: string; uriRegexRewrite?: { match?: string; rewrite?: string } };
  redirect?: { uri?: string; authority?: string; port?: number; derivePort?: string; scheme?: string; redirectCode?: number };
  mirror?: Destination;
  mirrorPercentage?: { value?: number };
  mirrors?: Array<{ destination: Destination; percentage?: { value?: number } }>;
  headers?: { request?: HeaderOps; response?: HeaderOps };
  corsPolicy?: {
    allowOrigins?: StringMatch[];
    allowOrigin?: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: string;
    allowCredentials?: boolean;
    unmatchedPreflights?: string;
  };
  route?: ReadonlyArray<object>;
}

/**
 * A VirtualService http route's rewrite, redirect, mirrors, header operations and CORS
 * policy for the route builders. Invalid values are ConfigErrors (the VirtualService is
 * skipped with the reason, as for any other).
 */
export function httpFeatures(
  http: HttpRouteFeatures,
  o: { port: number; namespace: string; cluster: (d: Destination) => string },
): Pick<RouteAction, "rewrite" | "redirect" | "mirrors" | "headers" | "cors"> {
  const out: Pick<RouteAction, "rewrite" | "redirect" | "mirrors" | "headers" | "cors"> = {};
  const rw = http.rewrite;
  if (rw) {
    if (rw.uri !== undefined && rw.uriRegexRewrite) throw new ConfigError("rewrite: uri and uriRegexRewrite cannot both be set");
    const regex = rw.uriRegexRewrite;
    out.rewrite = {
      ...(rw.uri !== undefined ? { prefix: rw.uri } : {}),
      ...(regex ? { regex: { pattern: checkRegex(regex.match ?? "", "rewrite.uriRegexRewrite.match"), substitution: regex.rewrite ?? "" } } : {}),
      ...(rw.authority ? { authority: rw.authority } : {}),
    };
  }
  const rd = http.redirect;
  if (rd) {
    const code = rd.redirectCode ?? 301;
    if (!REDIRECT_STATUS_CODES.includes(code)) throw new ConfigError(`redirect.redirectCode ${code} is not one of ${REDIRECT_STATUS_CODES.join(", ")}`);
    // Istio: FROM_REQUEST_PORT is the port the route is generated for; FROM_PROTOCOL_DEFAULT leaves the port out.
    const port = rd.port ?? (rd.derivePort === "FROM_REQUEST_PORT" ? o.port : undefined);
    out.redirect = {
      ...(rd.uri ? { path: rd.uri } : {}),
      ...(rd.authority ? { host: rd.authority } : {}),
      ...(port ? { port } : {}),
      ...(rd.scheme ? { scheme: rd.scheme } : {}),
      code,
    };
  }
  const mirrors = [
    ...(http.mirror ? [{ destination: http.mirror, percentage: http.mirrorPercentage }] : []),
    ...(http.mirrors ?? []).map((m) => ({ destination: m.destination, percentage: m.percentage })),
  ];
  if (mirrors.length) out.mirrors = mirrors.map((m) => ({ cluster: o.cluster(m.destination), percent: m.percentage?.value ?? 100 }));
  // Copied field by field: the route is hashed, and only what is honoured may be read.
  const ops = (h: HeaderOps | undefined): HeaderOps | undefined =>
    h && { ...(h.set ? { set: { ...h.set } } : {}), ...(h.add ? { add: { ...h.add } } : {}), ...(h.remove ? { remove: [...h.remove] } : {}) };
  const request = ops(http.headers?.request);
  const response = ops(http.headers?.response);
  if (request || response) out.headers = { ...(request ? { request } : {}), ...(response ? { response } : {}) };
  if ((http.route ?? []).some((r) => "headers" in r))
    throw new ConfigError("route[].headers (per-destination header operations) are not supported; use http[].headers");
  const c = http.corsPolicy;
  if (c) {
    const origins: StringMatch[] = c.allowOrigins ?? (c.allowOrigin ?? []).map((exact) => ({ exact }));
    out.cors = {
      allowOrigins: origins.map((m) =>
        m.exact !== undefined
          ? { exact: m.exact }
          : m.prefix !== undefined
            ? { prefix: m.prefix }
            : { regex: checkRegex(m.regex ?? ".*", "corsPolicy.allowOrigins.regex") },
      ),
      ...(c.allowMethods ? { allowMethods: c.allowMethods } : {}),
      ...(c.allowHeaders ? { allowHeaders: c.allowHeaders } : {}),
      ...(c.exposeHeaders ? { exposeHeaders: c.exposeHeaders } : {}),
      ...(c.maxAge ? { maxAgeSeconds: Math.floor((durationMs(c.maxAge) ?? 0) / 1000) } : {}),
      ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
      forwardUnmatchedPreflights: c.unmatchedPreflights !== "IGNORE",
    };
  }
  return out;
}
