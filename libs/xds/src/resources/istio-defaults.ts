import { toAny } from "../protos.js";

/*
 * What Istio sets on an Envoy sidecar where Envoy's own default differs (istio/istio
 * pilot/pkg/networking/core: route/retry/retry.go, route/route.go setTimeout,
 * listener_builder.go buildHTTPConnectionManager, cluster_builder.go). Listed, with Envoy's
 * defaults, in services/config-push/README.md. Proxyless gRPC keeps gRPC's defaults.
 */

const MAX_UINT32 = 4_294_967_295;

/** Route timeout: Istio disables it (0s); Envoy's default is 15 s. */
export const ISTIO_ROUTE_TIMEOUT = { seconds: 0 };

/** Istio's meshConfig.connectTimeout default; Envoy's is 5 s. */
export const ISTIO_CONNECT_TIMEOUT = { seconds: 10 };

/**
 * Istio disables Envoy's circuit breakers unless a DestinationRule sets them (Envoy: 1,024
 * connections, pending and requests, 3 retries).
 */
export const ISTIO_CIRCUIT_BREAKER = {
  max_connections: { value: MAX_UINT32 },
  max_pending_requests: { value: MAX_UINT32 },
  max_requests: { value: MAX_UINT32 },
  max_retries: { value: MAX_UINT32 },
  track_remaining: true,
};

/** Istio's default retry: with no `retries` in the VirtualService (Envoy's default is none). */
export const ISTIO_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
export const ISTIO_RETRY_ATTEMPTS = 2;
export const ISTIO_RETRIABLE_STATUS_CODES = [503];
export const ISTIO_HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5;

export const previousHostsPredicate = () => ({
  name: "envoy.retry_host_predicates.previous_hosts",
  typed_config: toAny("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate", {}),
});

/** `retryRemoteLocalities: true`: retry in other priorities (localities), updated every 2 attempts as Istio does. */
export const previousPrioritiesRetry = () => ({
  name: "envoy.retry_priorities.previous_priorities",
  typed_config: toAny("envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig", { update_frequency: 2 }),
});

/**
 * What Istio sets on every sidecar HTTP connection manager: websocket upgrades allowed,
 * stream idle timeout disabled (Envoy: 5 min), paths normalised (meshConfig
 * pathNormalization BASE), the peer address not trusted for XFF.
 */
export const ISTIO_HCM = {
  upgrade_configs: [{ upgrade_type: "websocket" }],
  stream_idle_timeout: { seconds: 0 },
  normalize_path: { value: true },
  use_remote_address: { value: false },
};

/** RDS over ADS without Envoy's 15 s initial fetch timeout (Istio waits as long as it takes). */
export const ISTIO_RDS_SOURCE = { ads: {}, resource_api_version: "V3", initial_fetch_timeout: { seconds: 0 } };
