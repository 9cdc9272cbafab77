import type { RouteAction } from "@isthmus/xds";
import { durationMs } from "./traffic.js";

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
