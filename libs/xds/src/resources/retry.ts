import { STATUS_CODES } from "node:http";
import {
  ISTIO_HOST_SELECTION_RETRY_MAX_ATTEMPTS,
  ISTIO_RETRIABLE_STATUS_CODES,
  ISTIO_RETRY_ATTEMPTS,
  ISTIO_RETRY_ON,
  previousHostsPredicate,
  previousPrioritiesRetry,
} from "./istio-defaults.js";
import type { RouteAction } from "./route.js";

const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });

/** Istio's retryOn: the parts that are HTTP status codes become retriable_status_codes, the rest stays retry_on. */
export function parseRetryOn(retryOn: string): { on: string; codes: number[] } {
  const on: string[] = [];
  const codes: number[] = [];
  for (const raw of retryOn.split(",")) {
    const part = raw.trim();
    if (!part) continue;
    if (/^\d+$/.test(part) && STATUS_CODES[Number(part)] !== undefined) codes.push(Number(part));
    else on.push(part);
  }
  return { on: on.join(","), codes };
}

/**
 * An Envoy retry policy as Istio builds it (route/retry/retry.go ConvertPolicy): no
 * `retries` gives the default policy; `attempts: 0` none; otherwise the default with the
 * VirtualService's fields over it. A route that hashes to its host (`hashing`) does not
 * steer retries away from the previous host, as Istio's DefaultConsistentHashPolicy.
 */
export function envoyRetryPolicy(r: RouteAction["retry"], hashing = false): Record<string, unknown> | undefined {
  if (r && r.attempts <= 0) return undefined;
  const out: Record<string, unknown> = {
    retry_on: ISTIO_RETRY_ON,
    num_retries: { value: r?.attempts ?? ISTIO_RETRY_ATTEMPTS },
    retriable_status_codes: ISTIO_RETRIABLE_STATUS_CODES,
    ...(hashing ? {} : { retry_host_predicate: [previousHostsPredicate()] }),
    host_selection_retry_max_attempts: ISTIO_HOST_SELECTION_RETRY_MAX_ATTEMPTS,
  };
  if (!r) return out;
  if (r.retryOn) {
    const { on, codes } = parseRetryOn(r.retryOn);
    out.retry_on = codes.length && !on.includes("retriable-status-codes") ? [on, "retriable-status-codes"].filter(Boolean).join(",") : on;
    out.retriable_status_codes = codes;
  }
  if (r.perTryTimeoutMs) out.per_try_timeout = duration(r.perTryTimeoutMs);
  if (r.retryIgnorePreviousHosts === false) out.retry_host_predicate = [];
  if (r.retryRemoteLocalities) out.retry_priority = previousPrioritiesRetry();
  if (r.backoffMs) out.retry_back_off = { base_interval: duration(r.backoffMs) };
  return out;
}
