import { connect } from "node:tls";

export interface SanCheck {
  ok: boolean;
  sans: string[];
  error?: string;
}

/**
 * A real TLS handshake to the API server (at its address, presenting the PrivateLink
 * domain as SNI) that reads the certificate's subject alternative names: the seed's
 * "ACK cluster is not Running" troubleshooting step, as code.
 */
export function checkApiServerSan(address: string, domainName: string, timeoutMs = 5_000): Promise<SanCheck> {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(i + 1));
  return new Promise((resolve) => {
    const s = connect({ host, port, servername: domainName, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (r: SanCheck) => {
      s.destroy();
      resolve(r);
    };
    s.once("secureConnect", () => {
      // Only DNS names can match a domain; IP and URI entries are beside the point.
      const sans = (s.getPeerCertificate().subjectaltname ?? "")
        .split(", ")
        .filter((x) => x.startsWith("DNS:"))
        .map((x) => x.slice(4));
      const wanted = domainName.toLowerCase();
      const ok = sans.some(
        (n) =>
          n.toLowerCase() === wanted || (n.startsWith("*.") && wanted.endsWith(n.slice(1).toLowerCase()) && wanted.split(".").length === n.split(".").length),
      );
      done({ ok, sans });
    });
    s.once("timeout", () => done({ ok: false, sans: [], error: `no TLS handshake with ${address} within ${timeoutMs} ms` }));
    s.once("error", (err) => done({ ok: false, sans: [], error: `TLS handshake with ${address} failed: ${err.message}` }));
  });
}
