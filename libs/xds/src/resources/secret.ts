import { type AnyMessage, toAny } from "../protos.js";

const SECRET = "envoy.extensions.transport_sockets.tls.v3.Secret";

/** The trust bundle as an SDS validation context (Istio's `ROOTCA`). */
export function rootCaSecret(name: string, rootsPem: string[]): AnyMessage {
  return toAny(SECRET, { name, validation_context: { trusted_ca: { inline_string: rootsPem.join("\n") } } });
}

/**
 * The workload certificate as an SDS secret that points at the files the workload's own
 * agent writes and renews; Envoy watches the directory. The key never leaves the pod.
 */
export function fileCertificateSecret(name: string, dir: string, files = { chain: "cert-chain.pem", key: "key.pem" }): AnyMessage {
  return toAny(SECRET, {
    name,
    tls_certificate: {
      certificate_chain: { filename: `${dir}/${files.chain}` },
      private_key: { filename: `${dir}/${files.key}` },
      watched_directory: { path: dir },
    },
  });
}
