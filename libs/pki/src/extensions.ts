import { bitString, bool, implicit, octets, oid, seq, smallInt, TAG, tlv } from "./der.js";
import { OID } from "./oids.js";

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** URIs as GeneralName [6] uniformResourceIdentifier. */
export function sanExtension(uris: string[], critical: boolean): Buffer {
  return extension(OID.subjectAltName, critical, seq(...uris.map((u) => implicit(6, Buffer.from(u, "ascii")))));
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
