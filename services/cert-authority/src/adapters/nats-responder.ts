import type { BusLogger } from "@isthmus/bus";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { z } from "zod";
import { CaError } from "../domain/errors.js";
import type { CertificateIssuer } from "../issuer.js";
import type { Authenticator } from "./authenticator.js";

/** Request/reply subject; outside the event streams so requests are never stored. */
export function createCertificateSubject(mesh: string): string {
  return `isthmus.rpc.${mesh}.ca.create_certificate`;
}

const request = z.object({ csr: z.string().max(65_536), validityDuration: z.number().int().nonnegative().default(0) });

export type NatsCaReply = { certChain: string[] } | { error: { status: string; message: string } };

/** CreateCertificate over NATS request/reply: JSON in, JSON out; credentials in headers. */
export function startNatsResponder(o: { nc: NatsConnection; mesh: string; issuer: CertificateIssuer; auth: Authenticator; log: BusLogger }): Subscription {
  const enc = new TextEncoder();
  const reply = (m: Msg, body: NatsCaReply) => m.respond(enc.encode(JSON.stringify(body)));
  return o.nc.subscribe(createCertificateSubject(o.mesh), {
    queue: "cert-authority",
    callback: (err, m) => {
      if (err) return;
      void (async () => {
        try {
          let body: z.infer<typeof request>;
          try {
            body = request.parse(JSON.parse(new TextDecoder().decode(m.data)));
          } catch (e) {
            throw new CaError("INVALID_ARGUMENT", `request must be JSON {csr, validityDuration}: ${(e as Error).message.slice(0, 200)}`);
          }
          const bearer = /^Bearer\s+(.+)$/i.exec(m.headers?.get("authorization") ?? "")?.[1];
          const identity = await o.auth.authenticate({ bearer, clusterId: m.headers?.get("clusterid") || undefined });
          reply(m, { certChain: await o.issuer.issue({ csrPem: body.csr, validitySeconds: body.validityDuration, identity }) });
        } catch (e) {
          const ca = e instanceof CaError ? e : new CaError("INTERNAL", "internal error");
          if (!(e instanceof CaError)) o.log.error({ err: e }, "certificate request over NATS failed");
          reply(m, { error: { status: ca.status, message: ca.message } });
        }
      })();
    },
  });
}
