import { useMemo } from "preact/hooks";
import { certificateCounts } from "../../domain/views.js";
import type { CertSummary, Entity } from "../../domain/wire.js";
import { relative, store } from "../store.js";

function Cert(props: { c: CertSummary }) {
  return (
    <dl class="cert">
      <dt>subject</dt>
      <dd>{props.c.subject}</dd>
      <dt>issuer</dt>
      <dd>{props.c.issuer}</dd>
      <dt>valid</dt>
      <dd>
        {props.c.notBefore} → {props.c.notAfter}
      </dd>
      <dt>SHA-256</dt>
      <dd>
        <code>{props.c.fingerprint256}</code>
      </dd>
    </dl>
  );
}

type Of<K extends Entity["kind"]> = Extract<Entity, { kind: K }>;

export function SecurityView(props: { v: number }) {
  const { bundles, intermediates, certs, counts } = useMemo(() => {
    const all = [...store.entities.values()];
    return {
      bundles: all.filter((e): e is Of<"trust-bundle"> => e.kind === "trust-bundle"),
      intermediates: all.filter((e): e is Of<"intermediate"> => e.kind === "intermediate"),
      certs: all.filter((e): e is Of<"certificate"> => e.kind === "certificate").sort((a, b) => (a.notAfter < b.notAfter ? -1 : 1)),
      counts: certificateCounts(all, Date.now()),
    };
  }, [props.v]);
  return (
    <div>
      <div class="columns">
        <section class="card" data-testid="trust-bundles">
          <h3>Trust bundles</h3>
          {bundles.length === 0 && <p class="muted">No trust bundle published yet.</p>}
          {bundles.map((b) => (
            <div key={b.key}>
              <h4>
                {b.trustDomain} · version {b.version} · {b.roots.length} root{b.roots.length === 1 ? "" : "s"}
              </h4>
              {b.roots.map((r) => (
                <Cert key={r.fingerprint256} c={r} />
              ))}
            </div>
          ))}
        </section>
        <section class="card" data-testid="intermediates">
          <h3>Intermediates per mesh</h3>
          {intermediates.length === 0 && <p class="muted">No intermediate published yet.</p>}
          {intermediates.map((i) => (
            <div key={i.key}>
              <h4>
                mesh {i.mesh} · serial {i.serial} · expires {relative(i.notAfter)}
              </h4>
              <Cert c={i.cert} />
            </div>
          ))}
        </section>
      </div>
      <section class="card" data-testid="certificates">
        <h3>Workload certificates</h3>
        <p>
          {counts.issued} issued · {counts.expiringSoon} expiring within 6 h · {counts.expired} expired · {counts.revoked} revoked
        </p>
        <table>
          <thead>
            <tr>
              <th>SPIFFE id</th>
              <th>serial</th>
              <th>not after</th>
              <th>cluster</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {certs.slice(0, 200).map((c) => (
              <tr key={c.key}>
                <td>{c.spiffeId}</td>
                <td>
                  <code>{c.serial}</code>
                </td>
                <td>{c.notAfter}</td>
                <td>{c.cluster ?? ""}</td>
                <td>{c.revoked ? `revoked: ${c.revoked.reason}` : Date.parse(c.notAfter) < Date.now() ? "expired" : "valid"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
