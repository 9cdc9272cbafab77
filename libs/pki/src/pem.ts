export function toPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Text that claims to be PEM and is not. */
export class PemError extends Error {
  override name = "PemError";
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Every PEM block in the text, in order. */
export function fromPem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = (m[2] as string).replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new PemError(`PEM block ${m[1]} is not base64`);
    out.push({ label: m[1] as string, der: Buffer.from(body, "base64") });
  }
  return out;
}

export function certsFromPem(text: string): Buffer[] {
  return fromPem(text)
    .filter((b) => b.label === "CERTIFICATE")
    .map((b) => b.der);
}
