import { type AnyMessage, toAny } from "../protos.js";

/**
 * TLS contexts, in the two shapes xDS clients understand:
 * - proxyless gRPC reads certificates from the certificate-provider instances of its
 *   bootstrap (gRFC A29; `file_watcher` over the files `isthmus agent` writes);
 * - Envoy fetches them over SDS: `default` (its workload certificate) and `ROOTCA`.
 * Either way the private key stays in the workload: config-push never holds one.
 */
export interface TransportSocket {
  name: string;
  typed_config: AnyMessage;
}

export const SDS_CERTIFICATE = "default";
export const SDS_ROOT = "ROOTCA";

const sds = (name: string) => ({ name, sds_config: { ads: {}, resource_api_version: "V3" } });
const sanMatchers = (spiffeIds: string[], trustDomain: string) =>
  spiffeIds.length ? spiffeIds.map((id) => ({ exact: id })) : [{ prefix: `spiffe://${trustDomain}/` }];
// Envoy deprecates match_subject_alt_names for typed matchers (SPIFFE ids are URI SANs, as
// Istio sends them); grpc-js-xds 1.14 reads only the untyped field.
const typedSanMatchers = (spiffeIds: string[], trustDomain: string) => sanMatchers(spiffeIds, trustDomain).map((matcher) => ({ san_type: "URI", matcher }));

function socket(type: string, ctx: Record<string, unknown>): TransportSocket {
  return { name: "envoy.transport_sockets.tls", typed_config: toAny(type, ctx) };
}

/** Client side of mesh mTLS: present the workload certificate, accept only these SPIFFE ids (or any of the trust domain). */
export function upstreamMtls(o: { flavour: "grpc" | "envoy"; instance?: string; spiffeIds: string[]; trustDomain: string; sni?: string }): TransportSocket {
  const instance = o.instance ?? "default";
  const common =
    o.flavour === "grpc"
      ? {
          tls_certificate_provider_instance: { instance_name: instance },
          validation_context: {
            ca_certificate_provider_instance: { instance_name: instance },
            match_subject_alt_names: sanMatchers(o.spiffeIds, o.trustDomain),
          },
        }
      : {
          tls_certificate_sds_secret_configs: [sds(SDS_CERTIFICATE)],
          combined_validation_context: {
            default_validation_context: { match_typed_subject_alt_names: typedSanMatchers(o.spiffeIds, o.trustDomain) },
            validation_context_sds_secret_config: sds(SDS_ROOT),
          },
          alpn_protocols: ["istio", "h2"],
        };
  return socket("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", { common_tls_context: common, ...(o.sni ? { sni: o.sni } : {}) });
}

/** Server side of mesh mTLS: the workload certificate, and a client certificate from the mesh's roots required. */
export function downstreamMtls(o: { flavour: "grpc" | "envoy"; instance?: string }): TransportSocket {
  const instance = o.instance ?? "default";
  const common =
    o.flavour === "grpc"
      ? {
          tls_certificate_provider_instance: { instance_name: instance },
          validation_context: { ca_certificate_provider_instance: { instance_name: instance } },
        }
      : {
          tls_certificate_sds_secret_configs: [sds(SDS_CERTIFICATE)],
          combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: sds(SDS_ROOT) },
          alpn_protocols: ["istio", "h2"],
        };
  return socket("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", {
    common_tls_context: common,
    require_client_certificate: { value: true },
    ocsp_staple_policy: "LENIENT_STAPLING",
  });
}

/**
 * TLS origination to a non-mesh upstream (Istio's DestinationRule tls SIMPLE / MUTUAL with
 * files): verify the server against `caFile` (none: no verification, insecureSkipVerify)
 * and these SANs, present a client certificate for MUTUAL, send this SNI.
 */
export function originationTls(o: { caFile?: string; certFile?: string; keyFile?: string; sni?: string; subjectAltNames?: string[] }): TransportSocket {
  const common: Record<string, unknown> = {};
  if (o.certFile && o.keyFile) common.tls_certificates = [{ certificate_chain: { filename: o.certFile }, private_key: { filename: o.keyFile } }];
  if (o.caFile)
    common.validation_context = {
      trusted_ca: { filename: o.caFile },
      ...(o.subjectAltNames?.length
        ? { match_typed_subject_alt_names: o.subjectAltNames.flatMap((exact) => ["DNS", "URI"].map((san_type) => ({ san_type, matcher: { exact } }))) }
        : {}),
    };
  return socket("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", { common_tls_context: common, ...(o.sni ? { sni: o.sni } : {}) });
}
