import { GRPC_SERVER_LISTENER_TEMPLATE } from "./resources/type-urls.js";

export interface GrpcBootstrapOptions {
  /** config-push's xDS address, host:port (plaintext: gRPC's xDS client cannot use TLS towards it). */
  server: string;
  nodeId: string;
  locality?: { region?: string; zone?: string };
  metadata?: Record<string, string>;
  /**
   * A directory in `isthmus agent`'s layout: a `file_watcher` certificate provider
   * `default` over it, for xDS-configured mTLS (gRFC A29).
   */
  certDir?: string;
  /** The roots file, when not the directory's own. */
  rootsFile?: string;
}

/**
 * The bootstrap of a proxyless gRPC client or `XdsServer` (`GRPC_XDS_BOOTSTRAP_CONFIG`, or
 * per channel), as istio-agent writes it: the control plane, the node, the server listener
 * name template and, with certificates, the `default` certificate provider.
 */
export function grpcBootstrap(o: GrpcBootstrapOptions): string {
  const f = (name: string) => `${o.certDir}/${name}`;
  return JSON.stringify({
    xds_servers: [{ server_uri: o.server, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: o.nodeId, locality: o.locality ?? {}, ...(o.metadata ? { metadata: o.metadata } : {}) },
    server_listener_resource_name_template: GRPC_SERVER_LISTENER_TEMPLATE,
    ...(o.certDir
      ? {
          certificate_providers: {
            default: {
              plugin_name: "file_watcher",
              config: {
                certificate_file: f("cert-chain.pem"),
                private_key_file: f("key.pem"),
                ca_certificate_file: o.rootsFile ?? f("root-cert.pem"),
                refresh_interval: "60s",
              },
            },
          },
        }
      : {}),
  });
}

/** The per-channel (and per-`XdsServer`) bootstrap option of `@grpc/grpc-js-xds`. */
export const XDS_BOOTSTRAP_OPTION = "grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config";
