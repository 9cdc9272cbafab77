/**
 * The slice of DER that certificates, CSRs and names need: a writer that concatenates
 * pre-encoded parts (so templates can keep constant parts as bytes) and a reader that
 * walks TLVs without copying.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  throw new Error("DER value too long");
}

export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat([Buffer.from([tag]), lengthBytes(len), ...parts]);
}

export const seq = (...parts: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Uint8Array[]): Buffer => tlv(TAG.SET, ...parts);
export const octets = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, "utf8"));
export const ia5 = (s: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(s, "ascii"));
export const bool = (v: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
export const nul = (): Buffer => Buffer.from([TAG.NULL, 0]);
/** Context-specific constructed [n] (EXPLICIT tagging). */
export const explicit = (n: number, ...parts: Uint8Array[]): Buffer => tlv(0xa0 | n, ...parts);
/** Context-specific primitive [n] (IMPLICIT tagging of a primitive). */
export const implicit = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
export const bitString = (b: Uint8Array, unused = 0): Buffer => tlv(TAG.BIT_STRING, Buffer.from([unused]), b);

/** A non-negative INTEGER from big-endian magnitude bytes. */
export function uint(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return (b[0] as number) & 0x80 ? tlv(TAG.INTEGER, Buffer.from([0]), b) : tlv(TAG.INTEGER, b);
}

export function smallInt(n: number): Buffer {
  if (n < 0 || n > 127) throw new Error("smallInt takes 0..127");
  return Buffer.from([TAG.INTEGER, 1, n]);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [(arcs[0] as number) * 40 + (arcs[1] as number)];
  for (const a of arcs.slice(2)) {
    const stack = [a & 0x7f];
    let v = Math.floor(a / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const rest = `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${pad2(y % 100)}${rest}`, "ascii"));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${y}${rest}`, "ascii"));
}

// ---------------------------------------------------------------- reader

export class DerError extends Error {
  override name = "DerError";
}

export interface Node {
  tag: number;
  /** Offset of the tag byte in the buffer. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
  buf: Uint8Array;
}

export function read(buf: Uint8Array, at = 0, limit = buf.length): Node {
  if (at + 2 > limit) throw new DerError("truncated DER");
  const tag = buf[at] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not supported");
  let len = buf[at + 1] as number;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new DerError("unsupported DER length");
    if (p + n > limit) throw new DerError("truncated DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] as number);
    if (len < 0x80 || (n > 1 && buf[p] === 0)) throw new DerError("non-minimal DER length");
    p += n;
  }
  if (p + len > limit) throw new DerError("DER value runs past its container");
  return { tag, start: at, contentStart: p, end: p + len, buf };
}

export function children(n: Node): Node[] {
  const out: Node[] = [];
  let p = n.contentStart;
  while (p < n.end) {
    const c = read(n.buf, p, n.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export const content = (n: Node): Uint8Array => n.buf.subarray(n.contentStart, n.end);
export const whole = (n: Node): Uint8Array => n.buf.subarray(n.start, n.end);

export function expectTag(n: Node | undefined, tag: number, what: string): Node {
  if (!n) throw new DerError(`${what}: missing`);
  if (n.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${n.tag.toString(16)}`);
  return n;
}

export function readOid(n: Node): string {
  const b = content(n);
  if (!b.length) throw new DerError("empty OID");
  const arcs = [Math.floor((b[0] as number) / 40), (b[0] as number) % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + ((b[i] as number) & 0x7f);
    if (!((b[i] as number) & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join(".");
}

/** Parse a DER blob that must be exactly one element. */
export function parseOne(buf: Uint8Array): Node {
  const n = read(buf, 0);
  if (n.end !== buf.length) throw new DerError("trailing bytes after DER value");
  return n;
}
