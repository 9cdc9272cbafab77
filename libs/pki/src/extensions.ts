import { bitString, bool, implicit, octets, oid, seq, smallInt, TAG, tlv } from "./der.js";
import { OID } from "./oids.js";

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

export interface SubjectAltNames {
  uris?: string[];
  dnsNames?: string[];
  ips?: string[];
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(":")) {
    const [head = "", tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    return Buffer.from(groups.flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(ip.split(".").map(Number));
}

/** GeneralNames: URIs [6], DNS names [2], IP addresses [7]. */
export function sanExtension(names: string[] | SubjectAltNames, critical: boolean): Buffer {
  const n: SubjectAltNames = Array.isArray(names) ? { uris: names } : names;
  const parts = [
    ...(n.uris ?? []).map((u) => implicit(6, Buffer.from(u, "ascii"))),
    ...(n.dnsNames ?? []).map((d) => implicit(2, Buffer.from(d, "ascii"))),
    ...(n.ips ?? []).map((ip) => implicit(7, ipBytes(ip))),
  ];
  return extension(OID.subjectAltName, critical, seq(...parts));
}

export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export function keyUsageExtension(bits: Array<keyof typeof KEY_USAGE>): Buffer {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> KEY_USAGE[b];
  let unused = 0;
  while (unused < 7 && !(byte & (1 << unused))) unused++;
  return extension(OID.keyUsage, true, bitString(Buffer.from([byte]), unused));
}

export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const parts = ca ? [bool(true), ...(pathLen === undefined ? [] : [smallInt(pathLen)])] : [];
  return extension(OID.basicConstraints, true, seq(...parts));
}

export function extKeyUsage(...ids: string[]): Buffer {
  return extension(OID.extKeyUsage, false, seq(...ids.map(oid)));
}

export function subjectKeyId(id: Uint8Array): Buffer {
  return extension(OID.subjectKeyId, false, octets(id));
}

export function authorityKeyId(id: Uint8Array): Buffer {
  return extension(OID.authorityKeyId, false, seq(implicit(0, id)));
}

export type NameAttr = "CN" | "O" | "OU";
const NAME_OID: Record<NameAttr, string> = { CN: OID.commonName, O: OID.organization, OU: OID.organizationalUnit };

/** An X.501 Name, one attribute per RDN. */
export function x501Name(attrs: Array<[NameAttr, string]>): Buffer {
  return seq(...attrs.map(([k, v]) => tlv(TAG.SET, seq(oid(NAME_OID[k]), tlv(TAG.UTF8_STRING, Buffer.from(v, "utf8"))))));
}
